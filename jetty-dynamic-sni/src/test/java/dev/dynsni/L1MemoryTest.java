package dev.dynsni;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Credential;
import dev.dynsni.core.CredentialParser;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.InMemoryCertificateStore;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.util.ssl.X509;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What L1 holds per host, and how much: certificates shared by many entries are held once, the
 * chain and key of an alias still belong together, the cache stays within both of its bounds, and
 * the heap one entry retains (measured after a full collection in a JVM of its own) stays within
 * its budget and close to the estimate that bounds the cache in bytes.
 */
class L1MemoryTest
{
    /**
     * Budgets of heap per cached host, measured after GC (see {@link #main}); the
     * figures measured when they were set are in the comments. A change that makes an entry retain
     * more fails here: raise a budget only with a reason.
     */
    private static final Map<String, Integer> BUDGET_BYTES = Map.of(
        "shared", 2700,   // measured 2,361; 5,363 before chains were compact and shared (bench table 9)
        "own", 3400,      // measured 2,960; 9,067 before
        "rsa", 6400);     // measured 5,593; 8,729 before
    /** How far the estimate may be from the measured heap, as a fraction of the measured. */
    private static final double ESTIMATE_TOLERANCE = 0.20;

    @Test
    void sharedCertificates_areHeldOnce_andEachAliasKeepsItsOwnKey() throws Exception
    {
        CertificateAuthority root = CertificateAuthority.create("dynsni memory root");
        CertificateAuthority intermediate = root.intermediate("dynsni memory intermediate");
        IssuedCertificate a = intermediate.ec("a.memory.test");
        IssuedCertificate b = intermediate.ec("b.memory.test");
        IssuedCertificate san = intermediate.ec("apex.memory.test", "www.apex.memory.test");
        IssuedCertificate wildcard = intermediate.ec("*.wild.memory.test");
        IssuedCertificate rsa = intermediate.rsa("a.memory.test");
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        put(store, "a.memory.test", a);
        put(store, "a.memory.test", rsa);
        put(store, "b.memory.test", b);
        put(store, "apex.memory.test", san);
        put(store, "www.apex.memory.test", san);
        put(store, "*.wild.memory.test", wildcard);
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        factory.start();
        try
        {
            List<String> hosts = List.of("a.memory.test", "b.memory.test", "apex.memory.test", "www.apex.memory.test", "x.wild.memory.test", "y.wild.memory.test");
            for (String host : hosts)
            {
                assertNotNull(factory.prefetch(host, "EC").get(10, TimeUnit.SECONDS), host);
            }
            CredentialCache cache = factory.getResolver().cache();
            HostCredentials heldA = cache.peek("a.memory.test");
            Credential ecA = heldA.select("EC", System.currentTimeMillis());
            Credential rsaA = heldA.select("RSA", System.currentTimeMillis());
            Credential ecB = cache.peek("b.memory.test").select("EC", System.currentTimeMillis());

            // one intermediate object for every chain that holds it, whatever the key type
            assertSame(ecA.getChain()[1], ecB.getChain()[1]);
            assertSame(ecA.getChain()[1], rsaA.getChain()[1]);
            // one leaf object for the names it is stored under, each with the key of that leaf
            Credential apex = cache.peek("apex.memory.test").select("EC", System.currentTimeMillis());
            Credential www = cache.peek("www.apex.memory.test").select("EC", System.currentTimeMillis());
            assertSame(apex.getLeaf(), www.getLeaf());
            assertNotSame(apex.getAlias(), www.getAlias());
            assertTrue(Pem.matches(www.getPrivateKey(), www.getLeaf().getPublicKey()));
            // one set of credentials for every host a wildcard serves
            HostCredentials x = cache.peek("x.wild.memory.test");
            HostCredentials y = cache.peek("y.wild.memory.test");
            assertSame(x, y);
            // chain and key of each alias belong together; the chain is the one stored
            for (Credential credential : new Credential[]{ecA, rsaA, ecB, apex, www, x.credentials[0]})
            {
                assertTrue(Pem.matches(credential.getPrivateKey(), credential.getLeaf().getPublicKey()), credential.toString());
                assertEquals(Pem.fingerprint(credential.getLeaf()), credential.getFingerprint());
                assertTrue(credential.getAlias().endsWith("|" + credential.getKeyType() + "|" + credential.getFingerprint()));
            }
            assertEquals("a.memory.test", ecA.getName());
            assertEquals("*.wild.memory.test", x.credentials[0].getName());

            // the compact certificate is the certificate: equal and hashed as the JDK's, same answers
            X509Certificate jdk = Pem.parseCertificate(a.certificateDer());
            assertEquals(jdk, ecA.getLeaf());
            assertEquals(ecA.getLeaf(), jdk);
            assertEquals(jdk.hashCode(), ecA.getLeaf().hashCode());
            assertArrayEquals(a.certificateDer(), ecA.getLeaf().getEncoded());
            assertEquals(jdk.getSubjectX500Principal(), ecA.getLeaf().getSubjectX500Principal());
            assertEquals(jdk.getSubjectAlternativeNames(), ecA.getLeaf().getSubjectAlternativeNames());
            assertEquals(jdk.getNotAfter(), ecA.getLeaf().getNotAfter());
            assertEquals(jdk.getPublicKey(), ecA.getLeaf().getPublicKey());
            ecA.getLeaf().verify(intermediate.caCertificate().getPublicKey());
            assertTrue(new X509(null, ecA.getLeaf()).matches("a.memory.test"));

            // estimates: what an entry brought in; a shared part is counted once
            assertTrue(ecA.getEstimatedBytes() - ecB.getEstimatedBytes() > 300, "a brought the intermediate in, b shares it: " + ecA.getEstimatedBytes() + " vs " + ecB.getEstimatedBytes());
            assertEquals("x.wild.memory.test", x.owner);
            assertEquals(HostCredentials.entryBytes("y.wild.memory.test"), y.estimatedBytesFor("y.wild.memory.test"), "the second wildcard host adds its entry only");
            assertTrue(x.estimatedBytesFor("x.wild.memory.test") > 1000);
            long sum = 0;
            for (String host : hosts)
            {
                sum += cache.peek(host).estimatedBytesFor(host);
            }
            assertEquals(sum, factory.getStatistics().getL1EstimatedBytes());
            assertEquals(hosts.size(), factory.getStatistics().getL1Size());

            // reloading every entry (as refresh-after-write does) keeps the sharing and the estimate
            List<String> exact = hosts.subList(0, 4);
            Map<String, HostCredentials> old = new java.util.HashMap<>();
            exact.forEach(host -> old.put(host, cache.peek(host)));
            cache.refreshAll();
            for (int i = 0; i < 400 && exact.stream().anyMatch(host -> cache.peek(host) == old.get(host)); i++)
            {
                Thread.sleep(25);
            }
            exact.forEach(host -> assertNotSame(old.get(host), cache.peek(host), host + " reloaded"));
            assertSame(x, cache.peek("x.wild.memory.test"), "the same version of the wildcard is still shared");
            assertSame(ecB.getChain()[1], cache.peek("a.memory.test").select("EC", System.currentTimeMillis()).getChain()[1]);
            assertEquals(sum, factory.getStatistics().getL1EstimatedBytes());
        }
        finally
        {
            factory.stop();
        }
    }

    @Test
    void handshake_servesTheCompactChain_verifiedUpToTheRoot() throws Exception
    {
        CertificateAuthority root = CertificateAuthority.create("dynsni memory root");
        CertificateAuthority intermediate = root.intermediate("dynsni memory intermediate");
        IssuedCertificate issued = intermediate.ec("tls.memory.test");
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        put(store, "tls.memory.test", issued);
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        try (TestServer server = new TestServer(factory))
        {
            // PKIX from the root only: the server must send the intermediate
            try (SSLSocket socket = TlsClient.trusting(root.caCertificate()).connect(server.port(), "tls.memory.test"))
            {
                Certificate[] chain = socket.getSession().getPeerCertificates();
                assertEquals(2, chain.length);
                assertArrayEquals(issued.certificateDer(), chain[0].getEncoded());
                assertArrayEquals(intermediate.caCertificate().getEncoded(), chain[1].getEncoded());
            }
        }
    }

    @Test
    void cache_staysWithinBothBounds_andCountsItsEvictions() throws Exception
    {
        CertificateAuthority root = CertificateAuthority.create("dynsni memory root");
        CertificateAuthority intermediate = root.intermediate("dynsni memory intermediate");
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        for (int i = 0; i < 40; i++)
        {
            put(store, "h" + i + ".bounds.test", intermediate.ec("h" + i + ".bounds.test"));
        }
        // bound by bytes: room for about 8 hosts of about 2 KiB, far below maxEntries
        DynamicSniSslContextFactory bytes = new DynamicSniSslContextFactory();
        bytes.setCertificateStore(store);
        bytes.setCacheMaxEntries(1000);
        bytes.setCacheMaxBytes(8 * 2048);
        // bound by entries: 8 hosts, far below maxBytes
        DynamicSniSslContextFactory entries = new DynamicSniSslContextFactory();
        entries.setCertificateStore(store);
        entries.setCacheMaxEntries(8);
        for (DynamicSniSslContextFactory factory : List.of(bytes, entries))
        {
            factory.start();
            try
            {
                for (int i = 0; i < 40; i++)
                {
                    assertNotNull(factory.prefetch("h" + i + ".bounds.test", "EC").get(10, TimeUnit.SECONDS));
                    factory.getResolver().cache().cleanUp();
                    DynamicSniStatistics statistics = factory.getStatistics();
                    assertTrue(statistics.getL1Size() <= factory.getCacheMaxEntries(), "entries " + statistics.getL1Size());
                    assertTrue(statistics.getL1EstimatedBytes() <= factory.getCacheMaxBytes(), "bytes " + statistics.getL1EstimatedBytes());
                }
                DynamicSniStatistics statistics = factory.getStatistics();
                assertTrue(statistics.getL1Size() >= 4, "the cache still holds hosts: " + statistics.getL1Size());
                assertEquals(40, statistics.getL1Size() + statistics.getL1Evictions(), "every host loaded is held or was evicted");
            }
            finally
            {
                factory.stop();
            }
        }
    }

    /**
     * The heap one L1 entry retains, measured in a JVM of its own (Serial GC, soft references
     * cleared at each collection, the JDK's own cache of its last 750 parsed certificates filled
     * first, so that it does not count): 100 hosts loaded to warm up, then 1,500 more; bytes per
     * host = growth of the heap used after full collections / 1,500, for the layouts of {@link #main}.
     */
    @Test
    void oneEntry_retainsNoMoreThanItsBudget_closeToItsEstimate() throws Exception
    {
        for (String layout : List.of("shared", "own", "rsa"))
        {
            // what else the JVM allocates can only add to a measurement: over budget, measure again in a
            // fresh JVM (at most 3 times) and keep the smallest (a CI run once measured 3,658 for 'own',
            // typically 2,950)
            Map<String, Double> figures = measureInChildJvm(layout, 1500);
            for (int attempt = 2; attempt <= 3 && figures.get("bytesPerHost") > BUDGET_BYTES.get(layout); attempt++)
            {
                Map<String, Double> again = measureInChildJvm(layout, 1500);
                System.out.printf(Locale.ROOT, "L1 entry, layout %s: %.0f B/host over budget, measured again: %.0f%n", layout, figures.get("bytesPerHost"), again.get("bytesPerHost"));
                if (again.get("bytesPerHost") < figures.get("bytesPerHost"))
                    figures = again;
            }
            double measured = figures.get("bytesPerHost");
            double estimated = figures.get("estimatePerHost");
            System.out.printf(Locale.ROOT, "L1 entry, layout %s: measured %.0f B/host, estimated %.0f B/host%n", layout, measured, estimated);
            assertTrue(measured <= BUDGET_BYTES.get(layout), layout + ": one entry retains " + Math.round(measured) + " bytes, budget " + BUDGET_BYTES.get(layout));
            assertTrue(Math.abs(estimated - measured) <= ESTIMATE_TOLERANCE * measured,
                layout + ": estimate " + Math.round(estimated) + " bytes is more than " + Math.round(ESTIMATE_TOLERANCE * 100) + " % from the measured " + Math.round(measured));
        }
    }

    private static Map<String, Double> measureInChildJvm(String layout, int hosts) throws IOException, InterruptedException
    {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-XX:+UseSerialGC", "-Xmx512m", "-XX:SoftRefLRUPolicyMSPerMB=0",
            "-cp", System.getProperty("java.class.path"), L1MemoryTest.class.getName(), layout, Integer.toString(hosts)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the measuring JVM did not finish");
        assertEquals(0, process.exitValue(), output);
        Matcher matcher = Pattern.compile("bytesPerHost=([0-9.]+) estimatePerHost=([0-9.]+)").matcher(output);
        assertTrue(matcher.find(), output);
        return Map.of("bytesPerHost", Double.parseDouble(matcher.group(1)), "estimatePerHost", Double.parseDouble(matcher.group(2)));
    }

    /**
     * The measuring JVM: {@code layout} is {@code shared} (every EC P-256 leaf issued by one
     * intermediate), {@code own} (each by its own intermediate) or {@code rsa} (RSA 2048 leaves, one
     * intermediate); prints the figures.
     */
    public static void main(String[] args) throws Exception
    {
        String layout = args[0];
        int hosts = Integer.parseInt(args[1]);
        int warmUp = 100;
        CertificateAuthority root = CertificateAuthority.create("dynsni memory root");
        CertificateAuthority shared = root.intermediate("dynsni memory intermediate");
        // RSA keys are slow to make: a few, each record's key still parsed on its own
        KeyPair[] rsaKeys = new KeyPair[layout.equals("rsa") ? 8 : 0];
        for (int i = 0; i < rsaKeys.length; i++)
        {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            rsaKeys[i] = generator.generateKeyPair();
        }
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        List<String> chains = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < warmUp + hosts; i++)
        {
            String host = "h" + i + ".memory.test";
            CertificateAuthority issuer = layout.equals("own") ? root.intermediate("intermediate " + i) : shared;
            IssuedCertificate issued = layout.equals("rsa") ? issuer.issue(rsaKeys[i % rsaKeys.length], now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)), host) : issuer.ec(host);
            put(store, host, issued);
            chains.add(issued.chainPem());
        }
        String keyType = layout.equals("rsa") ? "RSA" : "EC";
        fillTheJdkCertificateCache(chains);
        chains = null;
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        factory.setCacheMaxEntries(warmUp + hosts);
        factory.setCacheMaxBytes(Long.MAX_VALUE / 2);
        factory.start();
        // what start does in the background (parser warm-up, the L1 tables) is over before measuring
        CredentialParser.warmUp();
        load(factory, keyType, 0, warmUp);
        Thread.sleep(500);
        long before = usedAfterGc();
        long estimateBefore = factory.getStatistics().getL1EstimatedBytes();
        load(factory, keyType, warmUp, warmUp + hosts);
        long after = usedAfterGc();
        long estimateAfter = factory.getStatistics().getL1EstimatedBytes();
        if (factory.getStatistics().getL1Size() != warmUp + hosts)
            throw new IllegalStateException("L1 holds " + factory.getStatistics().getL1Size() + " hosts, expected " + (warmUp + hosts));
        System.out.printf(Locale.ROOT, "bytesPerHost=%.1f estimatePerHost=%.1f%n", (after - before) / (double)hosts, (estimateAfter - estimateBefore) / (double)hosts);
        factory.stop();
    }

    private static void load(DynamicSniSslContextFactory factory, String keyType, int from, int to) throws Exception
    {
        List<CompletableFuture<Credential>> loads = new ArrayList<>();
        for (int i = from; i < to; i++)
        {
            loads.add(factory.prefetch("h" + i + ".memory.test", keyType));
        }
        for (CompletableFuture<Credential> load : loads)
        {
            if (load.get(60, TimeUnit.SECONDS) == null)
                throw new IllegalStateException("a host did not resolve");
        }
    }

    /**
     * The JDK's X.509 factory keeps its last 750 parsed certificates (soft values, strong keys holding
     * each encoding): filled before measuring, so that its growth is not counted as the cache's.
     */
    static void fillTheJdkCertificateCache(List<String> chains) throws Exception
    {
        for (String chain : chains)
        {
            for (byte[] der : Pem.readCertificateEncodings(chain))
            {
                Pem.parseCertificate(der);
            }
        }
    }

    /** @return the heap in use after full collections, the least of a few */
    static long usedAfterGc() throws InterruptedException
    {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++)
        {
            System.gc();
            Thread.sleep(50);
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    private static void put(InMemoryCertificateStore store, String name, IssuedCertificate issued)
    {
        store.put(new CertificateRecord(name, issued.keyType(), issued.chainPem(), issued.pkcs8KeyPem(), CertificateRecord.PLAIN, 0));
    }
}
