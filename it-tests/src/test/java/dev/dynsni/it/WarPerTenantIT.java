package dev.dynsni.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.net.ssl.SSLSocket;

import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FuturePromise;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One WAR per tenant on the real distribution, as {@code docs/hosting.md} describes it: a base made
 * with {@code --add-modules=dynamic-sni,http,https,http2,ee10-deploy}, hot deploy on, the tenants'
 * WARs under {@code tenants/} and the context XMLs of the page (read from it, so the page shows
 * what is tested) in {@code webapps/}; certificates in PostgreSQL (through Redis). Two tenants at
 * start (exact names; exact plus wildcard), a third added and removed while Jetty runs with
 * {@code dynsni import} / {@code remove}. This class runs with {@code hostedNames=stored} (the
 * default); {@link WarPerTenantDeployedIT} runs the same with {@code deployed}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WarPerTenantIT
{
    static final Path HOSTING_DOC = Path.of("..").toAbsolutePath().normalize().resolve("docs/hosting.md");
    private static final String TENANT_MARK = "tenant=";
    private static final String CONTEXT_LIST = "Contexts known to this server";

    private final String schema = TestServices.newSchema();
    private final Map<String, IssuedCertificate> certificates = new LinkedHashMap<>();
    /** host name -> tenant whose WAR must answer it */
    private final Map<String, String> claimed = new LinkedHashMap<>();
    private Path base;
    private Tenants tenants;
    private IssuedCertificate defaultCert;
    private JettyDistribution.JettyProcess jetty;
    private int httpPort;
    private List<String> contextXmls;
    /** Full handshakes (no resumption), HTTP/1.1 offered by ALPN */
    private TlsClient http11;

    /** @return the value of {@code jetty.dynamicSni.hostedNames} of this run */
    String hostedNames()
    {
        return "stored";
    }

    private boolean deployed()
    {
        return "deployed".equals(hostedNames());
    }

    @BeforeAll
    void start() throws Exception
    {
        long begin = System.nanoTime();
        contextXmls = contextXmlsOfTheDoc();
        base = JettyDistribution.newBase("wars-" + hostedNames(), "--add-modules=dynamic-sni,http,https,http2,ee10-deploy");
        tenants = new Tenants(TestServices.jdbcUrl(), schema);
        http11 = TlsClient.trusting(tenants.trustStore()).applicationProtocols("http/1.1").timeoutMillis(10_000);
        Files.createDirectories(base.resolve("tenants"));
        for (String tenant : List.of("alpha", "beta"))
        {
            writeWar(base.resolve("tenants/" + tenant + ".war"), tenant);
            Files.writeString(base.resolve("webapps/" + tenant + ".xml"), contextXml(tenant), StandardCharsets.UTF_8);
        }
        defaultCert = tenants.pki().ec("default.example.com");
        Files.createDirectories(base.resolve("etc"));
        Files.writeString(base.resolve("etc/default.crt"), defaultCert.chainPem(), StandardCharsets.US_ASCII);
        Files.writeString(base.resolve("etc/default.key"), defaultCert.pkcs8KeyPem(), StandardCharsets.US_ASCII);
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("jetty.dynamicSni.jdbc.url", TestServices.jdbcUrl());
        properties.put("jetty.dynamicSni.jdbc.schema", schema);
        properties.put("jetty.dynamicSni.redis.address", TestServices.redisUrl());
        properties.put("jetty.dynamicSni.redis.keyPrefix", TestServices.newKeyPrefix());
        properties.put("jetty.dynamicSni.default.certificate", "etc/default.crt");
        properties.put("jetty.dynamicSni.default.key", "etc/default.key");
        properties.put("jetty.dynamicSni.hostedNames", hostedNames());
        JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), properties);
        // as docs/hosting.md says: hot deploy needs a scan interval
        JettyDistribution.appendProperties(base.resolve("start.d/deployment-scanner.ini"), Map.of("jetty.deploy.scanInterval", "1"));
        httpPort = FreePorts.next();
        jetty = JettyDistribution.JettyProcess.start(base, "jetty.http.port=" + httpPort, "jetty.http.host=127.0.0.1");

        IssuedCertificate alpha = tenants.pki().ec("alpha.example.com", "www.alpha.example.com");
        store("alpha.example.com", alpha);
        store("www.alpha.example.com", alpha);
        store("beta.example.com", tenants.pki().ec("beta.example.com"));
        store("*.beta.example.com", tenants.pki().ec("*.beta.example.com"));
        // stored, but no context claims it
        store("stray.example.com", tenants.pki().ec("stray.example.com"));
        claimed.put("alpha.example.com", "alpha");
        claimed.put("www.alpha.example.com", "alpha");
        claimed.put("beta.example.com", "beta");
        claimed.put("shop.beta.example.com", "beta");
        System.out.printf("WarPerTenantIT[%s]: base, 2 WARs, Jetty started and certificates stored in %.1f s%n", hostedNames(), (System.nanoTime() - begin) / 1e9);
    }

    @AfterAll
    void stop() throws Exception
    {
        if (jetty != null)
            jetty.close();
        if (tenants != null)
            tenants.dropSchema();
    }

    private void store(String name, IssuedCertificate certificate) throws Exception
    {
        tenants.put(name, certificate);
        certificates.put(name, certificate);
    }

    /** @return the certificate a handshake for the host must get (exact, else the one-label wildcard) */
    private IssuedCertificate expectedFor(String host)
    {
        IssuedCertificate exact = certificates.get(host);
        return exact != null ? exact : certificates.get("*" + host.substring(host.indexOf('.')));
    }

    @Test
    @Order(1)
    void eachName_getsItsOwnCertificateAndItsOwnWar_overH2AndHttp11() throws Exception
    {
        for (HttpClients.Versions versions : List.of(HttpClients.Versions.HTTP_2, HttpClients.Versions.HTTP_1_1))
        {
            try (HttpClients.Jetty client = new HttpClients.Jetty(tenants.trustStore(), versions))
            {
                for (Map.Entry<String, String> entry : claimed.entrySet())
                {
                    String host = entry.getKey();
                    ContentResponse response = client.client().newRequest("https://" + host + ":" + jetty.port() + "/").timeout(20, TimeUnit.SECONDS).send();
                    String body = response.getContentAsString();
                    assertEquals(200, response.getStatus(), () -> versions + " " + host + ": " + body);
                    assertEquals(versions == HttpClients.Versions.HTTP_2 ? HttpVersion.HTTP_2 : HttpVersion.HTTP_1_1, response.getVersion(), host);
                    assertOnlyTenant(entry.getValue(), body);
                    X509Certificate received = client.peerLeaf(host);
                    assertNotNull(received, "no handshake recorded for " + host);
                    assertEquals(Tenants.sha256(expectedFor(host).certificate()), Tenants.sha256(received), versions + " " + host + ": certificate");
                }
            }
        }
    }

    @Test
    @Order(2)
    void crossTenantRequest_onAReusedConnection_gets421() throws Exception
    {
        // HTTP/2: one connection (SNI alpha), one stream for alpha, one for beta
        HTTP2Client http2 = new HTTP2Client();
        SslContextFactory.Client tls = new SslContextFactory.Client();
        tls.setTrustStore(tenants.trustStore());
        http2.addBean(tls);
        http2.start();
        try
        {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByAddress("alpha.example.com", new byte[]{127, 0, 0, 1}), jetty.port());
            FuturePromise<Session> connected = new FuturePromise<>();
            http2.connect(tls, address, new Session.Listener()
            {
            }, connected);
            Session session = connected.get(10, TimeUnit.SECONDS);
            H2Response alpha = h2Get(session, "alpha.example.com");
            assertEquals(200, alpha.status(), alpha.body());
            assertOnlyTenant("alpha", alpha.body());
            H2Response beta = h2Get(session, "shop.beta.example.com");
            assertEquals(421, beta.status(), beta.body());
            assertFalse(beta.body().contains(TENANT_MARK), beta.body());
            assertEquals(200, h2Get(session, "www.alpha.example.com").status(), "the connection stays usable for alpha's names");
            session.close(0, "done", Callback.NOOP);
        }
        finally
        {
            http2.stop();
        }

        // HTTP/1.1: two requests on one keep-alive connection (SNI alpha), alpha's then beta's
        try (SSLSocket socket = http11.connect(jetty.port(), "alpha.example.com"))
        {
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: alpha.example.com\r\n\r\n" +
                "GET / HTTP/1.1\r\nHost: beta.example.com\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String responses = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            List<Integer> statuses = statusLines(responses);
            assertEquals(List.of(200, 421), statuses, responses);
            assertTrue(responses.contains(TENANT_MARK + "alpha"), responses);
            assertFalse(responses.contains(TENANT_MARK + "beta"), responses);
        }
    }

    @Test
    @Order(3)
    void unclaimedName_getsAPlain404_neverTheListOfContexts() throws Exception
    {
        // plain HTTP (the http module), a name no context claims
        String plain = plainHttpGet("nobody.example.com");
        assertEquals(List.of(404), statusLines(plain), plain);
        assertNoContextList(plain, null);

        // HTTPS, the default certificate's own name: no context claims it
        try (SSLSocket socket = http11.connect(jetty.port(), "default.example.com"))
        {
            assertEquals(Tenants.sha256(defaultCert.certificate()), Tenants.sha256((X509Certificate)socket.getSession().getPeerCertificates()[0]));
            String response = TlsClient.get(socket, "default.example.com", "/");
            assertEquals(List.of(404), statusLines(response), response);
            assertNoContextList(response, null);
        }

        // a name with a stored certificate that no context claims
        try (SSLSocket socket = http11.connect(jetty.port(), "stray.example.com"))
        {
            X509Certificate leaf = (X509Certificate)socket.getSession().getPeerCertificates()[0];
            String response = TlsClient.get(socket, "stray.example.com", "/");
            if (deployed())
            {
                // not hosted: the unknown-host policy (the default certificate), whose names exclude it
                assertEquals(Tenants.sha256(defaultCert.certificate()), Tenants.sha256(leaf), "hostedNames=deployed: stray.example.com is unknown");
                assertEquals(List.of(421), statusLines(response), response);
            }
            else
            {
                assertEquals(Tenants.sha256(certificates.get("stray.example.com").certificate()), Tenants.sha256(leaf), "hostedNames=stored: its own certificate");
                assertEquals(List.of(404), statusLines(response), response);
            }
            assertNoContextList(response, null);
        }
    }

    @Test
    @Order(4)
    void tenantAddedWhileRunning_servedWithinSeconds_thenRemoved() throws Exception
    {
        String host = "gamma.example.com";
        IssuedCertificate gamma = tenants.pki().ec(host);
        Path crt = Files.writeString(base.resolve("gamma.crt"), gamma.chainPem(), StandardCharsets.US_ASCII);
        Path key = Files.writeString(base.resolve("gamma.key"), gamma.pkcs8KeyPem(), StandardCharsets.US_ASCII);
        String gammaSha = Tenants.sha256(gamma.certificate());
        String defaultSha = Tenants.sha256(defaultCert.certificate());

        // docs/hosting.md, "Adding a tenant": WAR, certificate, then the context XML moved in
        writeWar(base.resolve("tenants/gamma.war"), "gamma");
        dynsni("import", "--cert", crt.toString(), "--key", key.toString());
        long imported = System.nanoTime();
        Served before = awaitServed(host, served -> served.leafSha().equals(deployed() ? defaultSha : gammaSha), 5_000);
        if (!deployed())
            assertEquals(404, before.status(), "stored, no context yet: " + before.response());
        System.out.printf("WarPerTenantIT[%s]: certificate imported, handshake as expected after %d ms%n", hostedNames(), ms(imported));

        Path staged = Files.writeString(base.resolve("tenants/gamma.xml"), contextXml("gamma"), StandardCharsets.UTF_8);
        long moved = System.nanoTime();
        Files.move(staged, base.resolve("webapps/gamma.xml"), StandardCopyOption.ATOMIC_MOVE);
        Served deployedPage = awaitServed(host, served -> served.leafSha().equals(gammaSha) && served.status() == 200, 15_000);
        long deployMillis = ms(moved);
        assertOnlyTenant("gamma", deployedPage.response());
        if (deployed())
            awaitLog("Hosted names changed added=[gamma.example.com, www.gamma.example.com] removed=[]");
        System.out.printf("WarPerTenantIT[%s]: hot deploy: %s served its own certificate and WAR %d ms after the XML was moved in%n", hostedNames(), host, deployMillis);

        // docs/hosting.md, "Removing a tenant": the XML, then the certificate
        long removed = System.nanoTime();
        Files.delete(base.resolve("webapps/gamma.xml"));
        Served undeployed = awaitServed(host, served -> deployed()
            ? served.leafSha().equals(defaultSha)
            : served.leafSha().equals(gammaSha) && served.status() == 404, 15_000);
        assertFalse(undeployed.response().contains(TENANT_MARK), undeployed.response());
        assertNoContextList(undeployed.response(), "gamma");
        if (deployed())
            awaitLog("Hosted names changed added=[] removed=[gamma.example.com, www.gamma.example.com]");
        System.out.printf("WarPerTenantIT[%s]: undeploy: %s no longer served %d ms after the XML was removed (%s)%n", hostedNames(), host, ms(removed),
            deployed() ? "unknown: the default certificate" : "its certificate, then 404");

        dynsni("remove", host);
        long certificateRemoved = System.nanoTime();
        awaitServed(host, served -> served.leafSha().equals(defaultSha), 5_000);
        System.out.printf("WarPerTenantIT[%s]: certificate removed: the default certificate after %d ms%n", hostedNames(), ms(certificateRemoved));
    }

    @Test
    @Order(100)
    void stop_sigterm_stopsCleanly() throws Exception
    {
        jetty.stopCleanly();
    }

    // ---- helpers

    /** One full handshake (no resumption) and {@code GET /} over HTTP/1.1. */
    private record Served(String leafSha, int status, String response)
    {
    }

    private Served serve(String host) throws IOException
    {
        try (SSLSocket socket = http11.connect(jetty.port(), host))
        {
            String sha = Tenants.sha256((X509Certificate)socket.getSession().getPeerCertificates()[0]);
            String response = TlsClient.get(socket, host, "/");
            List<Integer> statuses = statusLines(response);
            return new Served(sha, statuses.isEmpty() ? -1 : statuses.get(0), response);
        }
    }

    private Served awaitServed(String host, java.util.function.Predicate<Served> condition, long timeoutMillis) throws Exception
    {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Served last = null;
        Exception failure = null;
        while (System.nanoTime() < deadline)
        {
            try
            {
                last = serve(host);
                if (condition.test(last))
                    return last;
            }
            catch (IOException x)
            {
                failure = x;
            }
            Thread.sleep(100);
        }
        fail(host + " not as expected within " + timeoutMillis + " ms; last: " + (last == null ? failure : last.status() + " " + last.response()));
        return null;
    }

    /** The line is logged right after the set changes: give the log a moment. */
    private void awaitLog(String line) throws InterruptedException
    {
        for (int i = 0; i < 50 && !jetty.log().contains(line); i++)
        {
            Thread.sleep(100);
        }
        assertTrue(jetty.log().contains(line), () -> "no '" + line + "' in the log:\n" + jetty.log());
    }

    private static long ms(long since)
    {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    private void dynsni(String... args) throws Exception
    {
        List<String> command = new ArrayList<>(List.of("bash", JettyDistribution.HOME.resolve("bin/dynsni").toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--jetty-base", base.toString()));
        HttpClients.Output out = HttpClients.run(command);
        assertEquals(0, out.exitCode(), () -> String.join(" ", command) + ":\n" + out.stdout());
    }

    private static void assertOnlyTenant(String tenant, String body)
    {
        assertTrue(body.contains(TENANT_MARK + tenant), () -> "not " + tenant + "'s page: " + body);
        for (String other : List.of("alpha", "beta", "gamma"))
        {
            if (!other.equals(tenant))
                assertFalse(body.contains(TENANT_MARK + other), () -> tenant + "'s page shows " + other + ": " + body);
        }
    }

    /** No list of contexts, and no other tenant named (Jetty's error page repeats the requested URI, so its own name may appear). */
    private static void assertNoContextList(String response, String requested)
    {
        assertFalse(response.contains(CONTEXT_LIST), response);
        for (String leak : List.of("alpha", "beta", "gamma", "tenants/", "webapps/"))
        {
            if (!leak.equals(requested))
                assertFalse(response.contains(leak), () -> "the answer names '" + leak + "': " + response);
        }
    }

    private static List<Integer> statusLines(String responses)
    {
        List<Integer> statuses = new ArrayList<>();
        Matcher matcher = Pattern.compile("(?m)^HTTP/1\\.1 (\\d{3}) ").matcher(responses);
        while (matcher.find())
        {
            statuses.add(Integer.parseInt(matcher.group(1)));
        }
        return statuses;
    }

    private String plainHttpGet(String host) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", httpPort))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = socket.getInputStream())
            {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
    }

    private record H2Response(int status, String body)
    {
    }

    private H2Response h2Get(Session session, String authority) throws Exception
    {
        MetaData.Request request = new MetaData.Request("GET", HttpURI.from("https", authority, jetty.port(), "/"), HttpVersion.HTTP_2, HttpFields.EMPTY);
        CompletableFuture<Integer> status = new CompletableFuture<>();
        CompletableFuture<String> body = new CompletableFuture<>();
        StringBuilder content = new StringBuilder();
        session.newStream(new HeadersFrame(request, null, true), new Stream.Listener()
        {
            @Override
            public void onHeaders(Stream stream, HeadersFrame frame)
            {
                if (frame.getMetaData() instanceof MetaData.Response response)
                    status.complete(response.getStatus());
                if (frame.isEndStream())
                    body.complete(content.toString());
                else
                    stream.demand();
            }

            @Override
            public void onDataAvailable(Stream stream)
            {
                Stream.Data data = stream.readData();
                if (data == null)
                {
                    stream.demand();
                    return;
                }
                content.append(StandardCharsets.UTF_8.decode(data.frame().getByteBuffer()));
                data.release();
                if (data.frame().isEndStream())
                    body.complete(content.toString());
                else
                    stream.demand();
            }
        });
        return new H2Response(status.get(10, TimeUnit.SECONDS), body.get(10, TimeUnit.SECONDS));
    }

    /** A tenant's WAR: a static page naming the tenant, nothing else (Jetty needs no web.xml). */
    static void writeWar(Path war, String tenant) throws IOException
    {
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(war)))
        {
            zip.putNextEntry(new ZipEntry("index.html"));
            zip.write(("<!DOCTYPE html>\n<html><head><title>" + tenant + "</title></head>\n<body><h1>" + TENANT_MARK + tenant + "</h1></body></html>\n")
                .getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
    }

    /**
     * @return the context XML of docs/hosting.md for the tenant: the page's first example (alpha,
     *     exact names) with the tenant's name, or its second (beta, exact and wildcard) for beta
     */
    private String contextXml(String tenant)
    {
        return tenant.equals("beta") ? contextXmls.get(1) : contextXmls.get(0).replace("alpha", tenant);
    }

    static List<String> contextXmlsOfTheDoc() throws IOException
    {
        List<String> blocks = new ArrayList<>();
        Matcher matcher = Pattern.compile("```xml\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(HOSTING_DOC, StandardCharsets.UTF_8));
        while (matcher.find())
        {
            blocks.add(matcher.group(1));
        }
        assertEquals(2, blocks.size(), HOSTING_DOC + " should hold two context XML examples");
        assertTrue(blocks.get(0).contains("<Item>alpha.example.com</Item>") && blocks.get(0).contains("/tenants/alpha.war"), blocks.get(0));
        assertTrue(blocks.get(1).contains("<Item>*.beta.example.com</Item>") && blocks.get(1).contains("/tenants/beta.war"), blocks.get(1));
        Path readme = HOSTING_DOC.getParent().getParent().resolve("README.md");
        assertTrue(Files.readString(readme, StandardCharsets.UTF_8).contains("```xml\n" + blocks.get(1) + "```"), readme + " should show the tested beta.xml of " + HOSTING_DOC);
        return blocks;
    }
}
