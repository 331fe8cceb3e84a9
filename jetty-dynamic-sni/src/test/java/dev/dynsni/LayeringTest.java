package dev.dynsni;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The handshake path reads one way: connection (prefetch, key manager) -> resolver -> cache ->
 * stores. No class refers back up, and the Jetty-free core refers to nothing of Jetty or of this
 * library. Checked on the sources, so a new reference fails here before it becomes a loop.
 */
class LayeringTest
{
    private static final Path LIBRARY = Path.of("src/main/java/dev/dynsni");
    private static final Path CORE = Path.of("../dynsni-core/src/main/java/dev/dynsni/core");

    /** Each class, and the classes above it that it must never name. */
    private static final Map<String, List<String>> MUST_NOT_NAME = Map.of(
        "CredentialCache", List.of("CertificateResolver", "SniKeyManager", "ClientHelloConnection", "PrefetchingSslConnectionFactory", "DynamicSniSslContextFactory"),
        "HostCredentials", List.of("CredentialCache", "CertificateResolver", "SniKeyManager", "ClientHelloConnection", "PrefetchingSslConnectionFactory", "DynamicSniSslContextFactory"),
        "CertificateResolver", List.of("SniKeyManager", "ClientHelloConnection", "PrefetchingSslConnectionFactory", "DynamicSniSslContextFactory"),
        "SniKeyManager", List.of("ClientHelloConnection", "PrefetchingSslConnectionFactory", "DynamicSniSslContextFactory", "CredentialCache"),
        "ClientHelloConnection", List.of("SniKeyManager", "CredentialCache"),
        "PrefetchingSslConnectionFactory", List.of("SniKeyManager", "CredentialCache"),
        "OnDemandAcme", List.of("CertificateResolver", "SniKeyManager", "ClientHelloConnection", "PrefetchingSslConnectionFactory", "DynamicSniSslContextFactory"),
        "TlsAlpn01Responder", List.of("OnDemandAcme", "CertificateResolver", "SniKeyManager", "ClientHelloConnection", "PrefetchingSslConnectionFactory", "DynamicSniSslContextFactory"),
        "AcmeChallengeHandler", List.of("OnDemandAcme", "SniKeyManager", "ClientHelloConnection", "CredentialCache"));

    @Test
    void lowerLayers_neverNameTheOnesAbove() throws IOException
    {
        List<String> violations = new ArrayList<>();
        for (Map.Entry<String, List<String>> entry : MUST_NOT_NAME.entrySet())
        {
            String source = code(LIBRARY.resolve(entry.getKey() + ".java"));
            for (String above : entry.getValue())
            {
                if (Pattern.compile("\\b" + above + "\\b").matcher(source).find())
                    violations.add(entry.getKey() + " names " + above);
            }
        }
        assertTrue(violations.isEmpty(), String.valueOf(violations));
    }

    @Test
    void core_isFreeOfJettyAndOfTheLibrary() throws IOException
    {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(CORE))
        {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList())
            {
                String source = Files.readString(file, StandardCharsets.UTF_8);
                if (source.contains("org.eclipse.jetty"))
                    violations.add(file.getFileName() + " uses Jetty");
                if (Pattern.compile("import dev\\.dynsni\\.[A-Z]").matcher(source).find())
                    violations.add(file.getFileName() + " imports the Jetty library");
            }
        }
        assertTrue(violations.isEmpty(), String.valueOf(violations));
    }

    /** @return the source without comments, so documentation may mention other layers */
    private static String code(Path file) throws IOException
    {
        String source = Files.readString(file, StandardCharsets.UTF_8);
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
    }
}
