package dev.dynsni.core;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one reader of store locations, shared by the library and the admin tool: Redis URLs
 * ({@code redis://[user[:password]@]host[:port][/database]}, {@code rediss://} for TLS) and
 * PostgreSQL JDBC URLs; and the one place that masks their credentials for messages and logs.
 *
 * <p>Nothing here ever puts a credential in an exception message: every message shows the URL
 * through {@link #mask(String)}, which hides everything between {@code ://} and the last {@code @}
 * (so a password holding {@code / ? # @ :} is hidden whole) and the value of every password
 * parameter; a comma-separated list of URLs is masked URL by URL. {@code java.net.URI} is not used: its exceptions quote the raw input.</p>
 */
public final class StoreUrls
{
    /** A comma that starts another URL (a scheme follows), not one inside a password. */
    private static final Pattern LIST_SEPARATOR = Pattern.compile(",(?=\\s*[A-Za-z][A-Za-z0-9+.-]*://)");
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)((?:password|sslpassword|sslkeypassword|pass|pwd)=)[^&;]*");

    private StoreUrls()
    {
    }

    /**
     * A Redis location.
     *
     * @param tls      whether it is {@code rediss://}
     * @param user     the ACL user of the URL, or null
     * @param password the password of the URL (percent-decoded), or null
     * @param database the database number, or null for the default
     */
    public record RedisUrl(boolean tls, String host, int port, String user, String password, Integer database)
    {
        /** @return {@code redis://host:port} (or {@code rediss://}), without credentials nor database */
        public String address()
        {
            String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
            return (tls ? "rediss" : "redis") + "://" + h + ":" + port;
        }

        @Override
        public String toString()
        {
            return address() + (database == null ? "" : "/" + database) + (password != null || user != null ? " (credentials masked)" : "");
        }
    }

    /**
     * @param url a Redis URL
     * @return its parts
     * @throws IllegalArgumentException naming {@link Setting#REDIS_ADDRESS}, the masked URL and the remedy
     */
    public static RedisUrl redis(String url)
    {
        if (url == null || url.isBlank())
            throw new IllegalArgumentException(Setting.REDIS_ADDRESS.property() + " is not set: set it to redis://host:port or rediss://host:port");
        String text = url.trim();
        String lower = text.toLowerCase(Locale.ROOT);
        boolean tls;
        if (lower.startsWith("redis://"))
            tls = false;
        else if (lower.startsWith("rediss://"))
            tls = true;
        else
            throw badRedis(text, "is not a Redis URL");
        String rest = text.substring(text.indexOf("://") + 3);
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0)
        {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            String rawUser = colon < 0 ? userInfo : userInfo.substring(0, colon);
            user = rawUser.isEmpty() ? null : percentDecode(rawUser);
            password = colon < 0 ? null : percentDecode(userInfo.substring(colon + 1));
            if (password != null && password.isEmpty())
                password = null;
        }
        int slash = rest.indexOf('/');
        String hostPort = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash + 1);
        if (hostPort.indexOf('?') >= 0 || hostPort.indexOf('#') >= 0 || path.indexOf('?') >= 0 || path.indexOf('#') >= 0)
            throw badRedis(text, "has a query or fragment, which is not read");
        String host;
        String portText = null;
        if (hostPort.startsWith("["))
        {
            int close = hostPort.indexOf(']');
            if (close < 0)
                throw badRedis(text, "has an unclosed IPv6 address");
            host = hostPort.substring(1, close);
            String after = hostPort.substring(close + 1);
            if (!after.isEmpty())
            {
                if (!after.startsWith(":"))
                    throw badRedis(text, "has a bad port");
                portText = after.substring(1);
            }
        }
        else
        {
            int colon = hostPort.lastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort.substring(0, colon);
            portText = colon < 0 ? null : hostPort.substring(colon + 1);
        }
        if (host.isEmpty() || !host.chars().allMatch(c -> c > ' ' && c < 127 && c != '@' && c != '/' && c != '\\'))
            throw badRedis(text, "has no valid host");
        int port = 6379;
        if (portText != null)
        {
            if (!portText.matches("\\d{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535)
                throw badRedis(text, "has a port that is not a number from 1 to 65535");
            port = Integer.parseInt(portText);
        }
        Integer database = null;
        if (!path.isEmpty())
        {
            if (!path.matches("\\d{1,5}"))
                throw new IllegalArgumentException(Setting.REDIS_ADDRESS.property() + "='" + mask(text) + "' has a path that is not a database number: use redis://host:port or redis://host:port/0");
            database = Integer.parseInt(path);
        }
        return new RedisUrl(tls, host, port, user, password, database);
    }

    private static IllegalArgumentException badRedis(String url, String why)
    {
        return new IllegalArgumentException(Setting.REDIS_ADDRESS.property() + "='" + mask(url) + "' " + why + ": use redis://host:port or rediss://host:port");
    }

    /**
     * @param url a JDBC URL
     * @return the URL, trimmed, when it is a PostgreSQL JDBC URL with a host
     * @throws IllegalArgumentException naming {@link Setting#JDBC_URL}, the masked URL and the remedy
     */
    public static String jdbc(String url)
    {
        if (url == null || url.isBlank())
            throw new IllegalArgumentException(Setting.JDBC_URL.property() + " is not set: set it to the PostgreSQL JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/hosting");
        String text = url.trim();
        String problem = jdbcProblem(text);
        if (problem != null)
            throw new IllegalArgumentException(Setting.JDBC_URL.property() + "='" + mask(text) + "' " + problem);
        return text;
    }

    /**
     * @return what is wrong with a (non-blank) JDBC URL, as a phrase that follows the masked URL in a
     *     message, e.g. "is not a PostgreSQL JDBC URL: use ..."; null when it is fine
     */
    public static String jdbcProblem(String url)
    {
        String text = url.trim();
        if (!text.startsWith("jdbc:postgresql:"))
            return "is not a PostgreSQL JDBC URL: use jdbc:postgresql://host:port/database";
        return null;
    }

    /**
     * @return the URL with its user-info (everything between {@code ://} and the last {@code @}) and
     *     every password parameter replaced by {@code ***}; null for null
     */
    public static String mask(String url)
    {
        if (url == null)
            return null;
        // A list of addresses (Redis Cluster seeds, sentinels): each masked on its own.
        String[] parts = LIST_SEPARATOR.split(url, -1);
        if (parts.length > 1)
        {
            StringBuilder masked = new StringBuilder();
            for (String part : parts)
                masked.append(masked.length() == 0 ? "" : ",").append(maskOne(part));
            return masked.toString();
        }
        return maskOne(url);
    }

    private static String maskOne(String url)
    {
        // Parameters first: a password parameter may itself hold an '@'.
        String masked = PASSWORD_PARAMETER.matcher(url).replaceAll("$1***");
        int scheme = masked.indexOf("://");
        int start = scheme >= 0 ? scheme + 3 : masked.indexOf(':') + 1;
        int at = masked.lastIndexOf('@');
        if (at >= start && start > 0)
            masked = masked.substring(0, start) + "***" + masked.substring(at);
        else if (at >= 0)
            masked = "***" + masked.substring(at);
        return masked;
    }

    /** Decodes {@code %XX} escapes (UTF-8); anything else, a lone {@code %} included, is kept as is. */
    static String percentDecode(String text)
    {
        if (text.indexOf('%') < 0)
            return text;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++)
        {
            if (bytes[i] == '%' && i + 2 < bytes.length && hex(bytes[i + 1]) >= 0 && hex(bytes[i + 2]) >= 0)
            {
                out.write(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            else
                out.write(bytes[i]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(byte b)
    {
        return Character.digit(b, 16);
    }
}
