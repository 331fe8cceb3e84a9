package dev.dynsni.testing;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code openssl s_client} as a TLS client: one handshake, no request, the leaf the server sent.
 * Unlike the JDK client it can offer exactly the signature algorithms a test names
 * ({@code -sigalgs}), as a client that cannot verify ECDSA (or RSA) does.
 */
public final class OpenSslClient
{
    private static final Pattern PEM = Pattern.compile("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----");
    private static final Pattern PROTOCOL = Pattern.compile("(?m)^\\s*Protocol\\s*:\\s*(\\S+)");
    private static final Pattern NEW = Pattern.compile("(?m)^New, (TLSv[0-9.]+), Cipher is (\\S+)");
    private static final Pattern ALPN = Pattern.compile("(?m)^ALPN protocol: (\\S+)");

    private OpenSslClient()
    {
    }

    /** One handshake's outcome; {@code leaf} is null when it failed. */
    public record Result(X509Certificate leaf, String protocol, String cipher, String alpn, String output)
    {
        public boolean ok()
        {
            return leaf != null;
        }
    }

    /**
     * @param options further {@code s_client} options, e.g. {@code -tls1_2 -sigalgs RSA+SHA256}
     */
    public static Result handshake(int port, String sni, String... options) throws Exception
    {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", sni));
        command.addAll(List.of(options));
        HttpClients.Output out = HttpClients.run(command);
        String text = out.stdout();
        Matcher pem = PEM.matcher(text);
        X509Certificate leaf = null;
        if (pem.find())
            leaf = (X509Certificate)CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem.group().getBytes(StandardCharsets.US_ASCII)));
        Matcher newLine = NEW.matcher(text);
        String protocol = null;
        String cipher = null;
        if (newLine.find())
        {
            protocol = newLine.group(1);
            cipher = newLine.group(2);
        }
        else
        {
            Matcher protocolLine = PROTOCOL.matcher(text);
            if (protocolLine.find())
                protocol = protocolLine.group(1);
        }
        Matcher alpn = ALPN.matcher(text);
        return new Result(leaf, protocol, cipher, alpn.find() ? alpn.group(1) : null, text);
    }
}
