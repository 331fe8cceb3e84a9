package dev.dynsni;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;

import dev.dynsni.core.Setting;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every setting is defined once, in {@link Setting}; everything else that names a setting is checked
 * against it here and fails on any difference: the beans' defaults and setters, the module's XML,
 * its {@code [ini-template]}, the configuration table of {@code docs/module.md}, and every
 * {@code jetty.dynamicSni.*} name written anywhere in the docs, READMEs and scripts.
 */
class SettingDefinitionsTest
{
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path MODULE = ROOT.resolve("jetty-home-overlay/src/main/config/modules/dynamic-sni.mod");
    private static final Path XML = ROOT.resolve("jetty-home-overlay/src/main/config/etc/jetty-dynamic-sni.xml");
    private static final Path MODULE_DOC = ROOT.resolve("docs/module.md");
    private static final Pattern PROPERTY_NAME = Pattern.compile("jetty\\.dynamicSni\\.[A-Za-z0-9.]*[A-Za-z0-9]");

    private static Class<?> ownerClass(Setting setting)
    {
        return setting.owner() == Setting.Owner.FACTORY ? DynamicSniSslContextFactory.class : PrefetchInstaller.class;
    }

    @Test
    void everyDefault_isParsableAndAccepted()
    {
        for (Setting setting : Setting.values())
        {
            if (!setting.defaultValue().isEmpty())
                assertNotNull(setting.parse(setting.defaultValue()), setting.property());
            if (setting.kind() == Setting.Kind.CHOICE)
                assertTrue(setting.choices().contains(setting.defaultValue()), setting.property());
        }
    }

    @Test
    void beans_haveASetterPerSetting_andStartWithTheDefinedDefaults() throws Exception
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        PrefetchingSslConnectionFactory prefetch = new PrefetchingSslConnectionFactory(factory, "alpn");
        for (Setting setting : Setting.values())
        {
            Class<?> owner = ownerClass(setting);
            String suffix = Character.toUpperCase(setting.beanProperty().charAt(0)) + setting.beanProperty().substring(1);
            Method setter = Stream.of(owner.getMethods())
                .filter(m -> m.getName().equals("set" + suffix) && m.getParameterCount() == 1)
                .findFirst().orElse(null);
            assertNotNull(setter, owner.getSimpleName() + " has no set" + suffix + " for " + setting.property());
            Class<?> type = setter.getParameterTypes()[0];
            Class<?> expected = switch (setting.kind())
            {
                case INT -> int.class;
                case LONG -> long.class;
                case BOOLEAN -> boolean.class;
                default -> String.class;
            };
            assertEquals(expected, type, "type of set" + suffix + " for " + setting.property());

            // the value a fresh bean reports is the defined default
            Object bean = setting.owner() == Setting.Owner.FACTORY ? factory : setting.property().startsWith(Setting.PREFETCH.property() + ".") ? prefetch : null;
            if (bean == null)
                continue;
            Method getter = Stream.of(bean.getClass().getMethods())
                .filter(m -> (m.getName().equals("get" + suffix) || m.getName().equals("is" + suffix)) && m.getParameterCount() == 0)
                .findFirst().orElse(null);
            if (getter == null || setting.kind() == Setting.Kind.SECRET)
                continue;
            Object value = getter.invoke(bean);
            Object defaultValue = setting.defaultValue().isEmpty() ? null : setting.parse(setting.defaultValue());
            if (defaultValue instanceof Number n && value instanceof Number v)
                assertEquals(n.longValue(), v.longValue(), setting.property());
            else
                assertEquals(defaultValue, value, setting.property());
        }
        assertEquals(Setting.PREFETCH.defaultBoolean(), new PrefetchInstaller(null, factory).isEnabled());
    }

    @Test
    void moduleXml_setsEverySettingOnItsBean() throws Exception
    {
        DocumentBuilderFactory builders = DocumentBuilderFactory.newInstance();
        builders.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document xml = builders.newDocumentBuilder().parse(XML.toFile());
        Map<String, String> beanOfProperty = new LinkedHashMap<>();
        Map<String, Boolean> resolvedPath = new LinkedHashMap<>();
        Map<String, String> ownerOfProperty = new LinkedHashMap<>();
        NodeList sets = xml.getElementsByTagName("Set");
        for (int i = 0; i < sets.getLength(); i++)
        {
            Element set = (Element)sets.item(i);
            String property = set.getAttribute("property");
            boolean viaResolvePath = false;
            if (property.isEmpty())
            {
                NodeList properties = set.getElementsByTagName("Property");
                for (int j = 0; j < properties.getLength(); j++)
                {
                    String name = ((Element)properties.item(j)).getAttribute("name");
                    if (name.startsWith(Setting.PREFIX))
                        property = name;
                }
                viaResolvePath = set.getElementsByTagName("Call").getLength() > 0 &&
                    "resolvePath".equals(((Element)set.getElementsByTagName("Call").item(0)).getAttribute("name"));
            }
            if (!property.startsWith(Setting.PREFIX))
                continue;
            Element owner = (Element)set.getParentNode();
            beanOfProperty.put(property, set.getAttribute("name"));
            resolvedPath.put(property, viaResolvePath);
            ownerOfProperty.put(property, owner.getAttribute("class"));
        }
        for (Setting setting : Setting.values())
        {
            String property = setting.property();
            assertTrue(beanOfProperty.containsKey(property), "the module XML does not set " + property);
            assertEquals(setting.beanProperty(), beanOfProperty.get(property), "bean property set from " + property);
            assertEquals(ownerClass(setting).getName(), ownerOfProperty.get(property), "bean configured by " + property);
            assertEquals(setting.kind() == Setting.Kind.FILE, resolvedPath.get(property),
                property + ": file settings (and only they) resolve against jetty.base");
        }
        Set<String> unknown = new TreeSet<>(beanOfProperty.keySet());
        Stream.of(Setting.values()).map(Setting::property).forEach(unknown::remove);
        assertTrue(unknown.isEmpty(), "the module XML sets properties no Setting defines: " + unknown);
    }

    /** One entry of the ini-template: the {@code ##} documentation, the property and its default. */
    private record IniEntry(String doc, String property, String value)
    {
    }

    @Test
    void iniTemplate_documentsEverySetting_inOrder_withItsDefault() throws IOException
    {
        List<IniEntry> entries = new ArrayList<>();
        boolean inTemplate = false;
        StringBuilder doc = new StringBuilder();
        for (String line : Files.readAllLines(MODULE, StandardCharsets.UTF_8))
        {
            if (line.startsWith("["))
            {
                inTemplate = line.equals("[ini-template]");
                continue;
            }
            if (!inTemplate)
                continue;
            if (line.startsWith("## "))
                doc.append(doc.length() == 0 ? "" : " ").append(line.substring(3).trim());
            else if (line.startsWith("# " + Setting.PREFIX))
            {
                int eq = line.indexOf('=');
                entries.add(new IniEntry(doc.toString(), line.substring(2, eq), line.substring(eq + 1)));
                doc.setLength(0);
            }
            else if (line.isBlank() || line.startsWith("###") || line.startsWith("# "))
                doc.setLength(0);
        }
        StringBuilder expected = new StringBuilder();
        StringBuilder actual = new StringBuilder();
        for (Setting setting : Setting.values())
        {
            expected.append(setting.property()).append('=').append(setting.defaultValue()).append("  ## ").append(setting.description()).append('\n');
        }
        for (IniEntry entry : entries)
        {
            actual.append(entry.property()).append('=').append(entry.value()).append("  ## ").append(entry.doc()).append('\n');
        }
        if (!expected.toString().equals(actual.toString()))
            fail("the [ini-template] of " + MODULE + " differs from Setting. Expected (in this order, each '## doc' above '# property=default'):\n" + iniTemplate() + "\nwas:\n" + actual);
    }

    @Test
    void moduleDoc_tableListsEverySetting_withItsDefaultAndDescription() throws IOException
    {
        Map<String, String[]> rows = new LinkedHashMap<>();
        Pattern row = Pattern.compile("^\\| `(jetty\\.dynamicSni\\.[^`]+)` \\| (.*?) \\| (.*) \\|$");
        for (String line : Files.readAllLines(MODULE_DOC, StandardCharsets.UTF_8))
        {
            Matcher m = row.matcher(line);
            if (m.matches())
                rows.put(m.group(1), new String[]{m.group(2), m.group(3)});
        }
        StringBuilder expected = new StringBuilder();
        for (Setting setting : Setting.values())
        {
            expected.append(tableRow(setting)).append('\n');
        }
        StringBuilder actual = new StringBuilder();
        for (Map.Entry<String, String[]> entry : rows.entrySet())
        {
            actual.append("| `").append(entry.getKey()).append("` | ").append(entry.getValue()[0]).append(" | ").append(entry.getValue()[1]).append(" |\n");
        }
        if (!expected.toString().equals(actual.toString()))
            fail("the configuration table of " + MODULE_DOC + " differs from Setting. Expected:\n" + expected + "\nwas:\n" + actual);
    }

    @Test
    void everyPropertyNamedAnywhere_isDefined() throws IOException
    {
        List<Path> files = new ArrayList<>();
        for (String name : List.of("README.md", "demo.sh", "docs", "dynsni-admin/README.md", "bench/RESULTS.md", "jetty-home-overlay/src/main/config", "it-tests/src/test"))
        {
            Path path = ROOT.resolve(name);
            if (Files.isDirectory(path))
            {
                try (Stream<Path> walk = Files.walk(path))
                {
                    walk.filter(Files::isRegularFile).forEach(files::add);
                }
            }
            else if (Files.isRegularFile(path))
                files.add(path);
        }
        Set<String> defined = new TreeSet<>();
        Stream.of(Setting.values()).map(Setting::property).forEach(defined::add);
        List<String> unknown = new ArrayList<>();
        for (Path file : files)
        {
            Matcher m = PROPERTY_NAME.matcher(Files.readString(file, StandardCharsets.UTF_8));
            while (m.find())
            {
                String name = m.group();
                // "jetty.dynamicSni.redis.password" / ".passwordFile" style prose and "jetty.dynamicSni.*" are fine
                if (!defined.contains(name) && defined.stream().noneMatch(d -> d.startsWith(name + ".")))
                    unknown.add(ROOT.relativize(file) + ": " + name);
            }
        }
        assertTrue(unknown.isEmpty(), "names no Setting defines: " + unknown);
    }

    private static String tableRow(Setting setting)
    {
        String defaultValue = setting == Setting.JDBC_URL ? "(required)" : setting.defaultValue().isEmpty() ? "" : "`" + setting.defaultValue() + "`";
        return "| `" + setting.property() + "` | " + defaultValue + " | " + setting.description() + " |";
    }

    /** @return the ini-template block the definitions call for, wrapped at 100 columns */
    static String iniTemplate()
    {
        StringBuilder out = new StringBuilder();
        for (Setting setting : Setting.values())
        {
            StringBuilder line = new StringBuilder("##");
            for (String word : setting.description().split(" "))
            {
                if (line.length() + 1 + word.length() > 100)
                {
                    out.append(line).append('\n');
                    line = new StringBuilder("##");
                }
                line.append(' ').append(word);
            }
            out.append(line).append('\n');
            out.append("# ").append(setting.property()).append('=').append(setting.defaultValue()).append("\n\n");
        }
        return out.toString();
    }
}
