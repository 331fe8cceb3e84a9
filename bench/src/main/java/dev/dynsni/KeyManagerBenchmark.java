package dev.dynsni;

import java.nio.ByteBuffer;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.InMemoryCertificateStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The key manager's L1-hit path as JSSE drives it for one handshake: {@code chooseEngineServerAlias}
 * with a fresh handshake session carrying the SNI, then {@code getCertificateChain} and
 * {@code getPrivateKey} for the chosen alias. Hosts are drawn with a Zipf skew (exponent 1) over
 * {@code cacheSize} hosts, all held in an L1 of that size (a wildcard certificate in an in-memory
 * store, loaded once per host before measuring). {@link #baseline} builds the same stub engine and
 * session and does nothing else: subtract it to get the key manager's own cost.
 *
 * <p>Rerun: {@code java -cp 'bench/target/dynsni-bench.jar:bench/target/lib/*' org.openjdk.jmh.Main
 * dev.dynsni.KeyManagerBenchmark -prof gc} (after {@code mvn -pl bench -am package -DskipTests}); the
 * harness runs it as table 6 of {@code bench/run-all.sh} ({@code BENCH_TABLES=jmh}).</p>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class KeyManagerBenchmark
{
    private static final int SAMPLES = 1 << 16;

    @State(Scope.Benchmark)
    public static class Tier
    {
        @Param({"1000", "10000", "100000"})
        public int cacheSize;

        DynamicSniSslContextFactory factory;
        SniKeyManager keyManager;
        List<SNIServerName>[] sni;
        int[] ranks;

        @Setup(Level.Trial)
        @SuppressWarnings("unchecked")
        public void setUp() throws Exception
        {
            CertificateAuthority pki = CertificateAuthority.create("jmh CA");
            IssuedCertificate wildcard = pki.ec("*.jmh.test");
            CertificateRecord record = new CertificateRecord("*.jmh.test", "EC", wildcard.chainPem(), wildcard.pkcs8KeyPem(), CertificateRecord.PLAIN, 1);
            factory = new DynamicSniSslContextFactory();
            InMemoryCertificateStore store = new InMemoryCertificateStore();
            store.put(record);
            factory.setCertificateStore(store);
            factory.setCacheMaxEntries(cacheSize);
            // bounded by entries only: every host must stay in L1 whatever it weighs
            factory.setCacheMaxBytes(cacheSize * 65536L);
            factory.start();
            keyManager = new SniKeyManager(factory.getResolver(), factory.getStatistics());
            sni = new List[cacheSize];
            List<CompletableFuture<?>> loads = new ArrayList<>();
            for (int i = 0; i < cacheSize; i++)
            {
                String host = "h" + i + ".jmh.test";
                sni[i] = List.of(new SNIHostName(host));
                loads.add(factory.prefetch(host, "EC"));
            }
            for (CompletableFuture<?> load : loads)
            {
                if (load.get() == null)
                    throw new IllegalStateException("host not resolvable");
            }
            double[] cumulative = new double[cacheSize];
            double sum = 0;
            for (int k = 0; k < cacheSize; k++)
            {
                sum += 1.0 / (k + 1);
                cumulative[k] = sum;
            }
            SplittableRandom random = new SplittableRandom(42);
            ranks = new int[SAMPLES];
            for (int i = 0; i < SAMPLES; i++)
            {
                int index = java.util.Arrays.binarySearch(cumulative, random.nextDouble() * sum);
                ranks[i] = Math.min(cacheSize - 1, index < 0 ? -index - 1 : index);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception
        {
            long misses = factory.getStatistics().getL1Misses();
            factory.stop();
            if (misses > cacheSize)
                throw new IllegalStateException("L1 misses during measurement: " + misses + " > " + cacheSize + " (the hot path was not measured)");
        }
    }

    @State(Scope.Thread)
    public static class Cursor
    {
        int next;
    }

    @Benchmark
    public void resolve(Tier tier, Cursor cursor, Blackhole blackhole)
    {
        int rank = tier.ranks[cursor.next++ & (SAMPLES - 1)];
        StubEngine engine = new StubEngine(new StubSession(tier.sni[rank]));
        String alias = tier.keyManager.chooseEngineServerAlias("EC", null, engine);
        X509Certificate[] chain = tier.keyManager.getCertificateChain(alias);
        PrivateKey key = tier.keyManager.getPrivateKey(alias);
        blackhole.consume(chain);
        blackhole.consume(key);
    }

    @Benchmark
    public void baseline(Tier tier, Cursor cursor, Blackhole blackhole)
    {
        int rank = tier.ranks[cursor.next++ & (SAMPLES - 1)];
        StubEngine engine = new StubEngine(new StubSession(tier.sni[rank]));
        blackhole.consume(engine.getHandshakeSession().getValue("x"));
        blackhole.consume(engine);
    }

    /** A handshake session as JSSE would show it to the key manager: SNI plus a value map. */
    static final class StubSession extends ExtendedSSLSession
    {
        private final List<SNIServerName> sni;
        private final Map<String, Object> values = new HashMap<>(4);

        StubSession(List<SNIServerName> sni)
        {
            this.sni = sni;
        }

        @Override
        public List<SNIServerName> getRequestedServerNames()
        {
            return sni;
        }

        @Override
        public String[] getLocalSupportedSignatureAlgorithms()
        {
            return new String[0];
        }

        @Override
        public String[] getPeerSupportedSignatureAlgorithms()
        {
            return new String[0];
        }

        @Override
        public byte[] getId()
        {
            return new byte[0];
        }

        @Override
        public SSLSessionContext getSessionContext()
        {
            return null;
        }

        @Override
        public long getCreationTime()
        {
            return 0;
        }

        @Override
        public long getLastAccessedTime()
        {
            return 0;
        }

        @Override
        public void invalidate()
        {
        }

        @Override
        public boolean isValid()
        {
            return true;
        }

        @Override
        public void putValue(String name, Object value)
        {
            values.put(name, value);
        }

        @Override
        public Object getValue(String name)
        {
            return values.get(name);
        }

        @Override
        public void removeValue(String name)
        {
            values.remove(name);
        }

        @Override
        public String[] getValueNames()
        {
            return values.keySet().toArray(new String[0]);
        }

        @Override
        public Certificate[] getPeerCertificates()
        {
            return null;
        }

        @Override
        public Certificate[] getLocalCertificates()
        {
            return null;
        }

        @Override
        public Principal getPeerPrincipal()
        {
            return null;
        }

        @Override
        public Principal getLocalPrincipal()
        {
            return null;
        }

        @Override
        public String getCipherSuite()
        {
            return "TLS_AES_128_GCM_SHA256";
        }

        @Override
        public String getProtocol()
        {
            return "TLSv1.3";
        }

        @Override
        public String getPeerHost()
        {
            return null;
        }

        @Override
        public int getPeerPort()
        {
            return -1;
        }

        @Override
        public int getPacketBufferSize()
        {
            return 16709;
        }

        @Override
        public int getApplicationBufferSize()
        {
            return 16384;
        }
    }

    /** Only {@link #getHandshakeSession()} is used by the key manager. */
    static final class StubEngine extends SSLEngine
    {
        private final SSLSession session;

        StubEngine(SSLSession session)
        {
            this.session = session;
        }

        @Override
        public SSLSession getHandshakeSession()
        {
            return session;
        }

        @Override
        public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
        {
            throw new UnsupportedOperationException();
        }

        @Override
        public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
        {
            throw new UnsupportedOperationException();
        }

        @Override
        public Runnable getDelegatedTask()
        {
            return null;
        }

        @Override
        public void closeInbound()
        {
        }

        @Override
        public boolean isInboundDone()
        {
            return false;
        }

        @Override
        public void closeOutbound()
        {
        }

        @Override
        public boolean isOutboundDone()
        {
            return false;
        }

        @Override
        public String[] getSupportedCipherSuites()
        {
            return new String[0];
        }

        @Override
        public String[] getEnabledCipherSuites()
        {
            return new String[0];
        }

        @Override
        public void setEnabledCipherSuites(String[] suites)
        {
        }

        @Override
        public String[] getSupportedProtocols()
        {
            return new String[0];
        }

        @Override
        public String[] getEnabledProtocols()
        {
            return new String[0];
        }

        @Override
        public void setEnabledProtocols(String[] protocols)
        {
        }

        @Override
        public SSLSession getSession()
        {
            return session;
        }

        @Override
        public void beginHandshake()
        {
        }

        @Override
        public SSLEngineResult.HandshakeStatus getHandshakeStatus()
        {
            return SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
        }

        @Override
        public void setUseClientMode(boolean mode)
        {
        }

        @Override
        public boolean getUseClientMode()
        {
            return false;
        }

        @Override
        public void setNeedClientAuth(boolean need)
        {
        }

        @Override
        public boolean getNeedClientAuth()
        {
            return false;
        }

        @Override
        public void setWantClientAuth(boolean want)
        {
        }

        @Override
        public boolean getWantClientAuth()
        {
            return false;
        }

        @Override
        public void setEnableSessionCreation(boolean flag)
        {
        }

        @Override
        public boolean getEnableSessionCreation()
        {
            return true;
        }
    }
}
