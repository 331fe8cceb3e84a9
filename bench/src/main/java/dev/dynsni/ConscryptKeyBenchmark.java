package dev.dynsni;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

import dev.dynsni.core.Credential;
import dev.dynsni.core.CredentialParser;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import org.conscrypt.Conscrypt;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What holding keys in Conscrypt's native form saves: full TLS 1.3 handshakes between two Conscrypt
 * engines in memory (no sockets, no resumption), the server's key manager handing out the
 * credential's private key either as {@link CredentialParser} builds it ({@code jdk}: Conscrypt
 * re-encodes it to PKCS#8 and parses it into BoringSSL on every handshake) or as L1 holds it on
 * Conscrypt ({@code native}: {@link Conscrypts#withNativeKey}). {@link #convertJdkKey} is that
 * per-handshake conversion alone (the same PKCS#8 encode and parse, through Conscrypt's KeyFactory).
 *
 * <p>Rerun: {@code java -cp 'bench/target/dynsni-bench.jar:bench/target/lib/*' org.openjdk.jmh.Main
 * dev.dynsni.ConscryptKeyBenchmark} (after {@code mvn -pl bench -am package -DskipTests}).</p>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Thread)
public class ConscryptKeyBenchmark
{
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    @Param({"EC", "RSA"})
    public String keyType;

    @Param({"jdk", "native"})
    public String keyForm;

    private SSLContext server;
    private SSLContext client;
    private PrivateKey jdkKey;
    private final ByteBuffer clientToServer = ByteBuffer.allocate(1 << 16);
    private final ByteBuffer serverToClient = ByteBuffer.allocate(1 << 16);
    private final ByteBuffer application = ByteBuffer.allocate(1 << 16);

    @Setup
    public void setUp() throws Exception
    {
        if (Security.getProvider(Conscrypts.PROVIDER) == null)
            Security.addProvider(Conscrypt.newProvider());
        CertificateAuthority pki = CertificateAuthority.create("conscrypt jmh CA");
        IssuedCertificate issued = "EC".equals(keyType) ? pki.ec("bench.test") : pki.rsa("bench.test");
        Credential parsed = CredentialParser.parse("bench.test", issued.chainPem(), issued.pkcs8KeyPem(), 1);
        jdkKey = parsed.getPrivateKey();
        Credential credential = "native".equals(keyForm) ? Conscrypts.withNativeKey(parsed) : parsed;
        if ("native".equals(keyForm) && !credential.getPrivateKey().getClass().getName().startsWith("org.conscrypt."))
            throw new IllegalStateException("no native key: " + credential.getPrivateKey().getClass());
        server = SSLContext.getInstance("TLSv1.3", Conscrypts.PROVIDER);
        server.init(new KeyManager[]{new OneCredential(credential)}, null, null);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", pki.caCertificate());
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX", Conscrypts.PROVIDER);
        trustManagers.init(trust);
        client = SSLContext.getInstance("TLSv1.3", Conscrypts.PROVIDER);
        client.init(null, trustManagers.getTrustManagers(), null);
        handshake(); // fails here rather than in the measurement if something is wrong
    }

    @Benchmark
    public SSLEngine handshake() throws SSLException
    {
        SSLEngine clientEngine = client.createSSLEngine();
        clientEngine.setUseClientMode(true);
        SSLParameters parameters = clientEngine.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName("bench.test")));
        clientEngine.setSSLParameters(parameters);
        SSLEngine serverEngine = server.createSSLEngine();
        serverEngine.setUseClientMode(false);
        clientToServer.clear();
        serverToClient.clear();
        clientEngine.beginHandshake();
        serverEngine.beginHandshake();
        for (int round = 0; round < 100; round++)
        {
            step(clientEngine, serverToClient, clientToServer);
            step(serverEngine, clientToServer, serverToClient);
            if (done(clientEngine) && done(serverEngine))
                return serverEngine;
        }
        throw new IllegalStateException("handshake did not finish: client " + clientEngine.getHandshakeStatus() + ", server " + serverEngine.getHandshakeStatus());
    }

    @Benchmark
    public PrivateKey convertJdkKey() throws Exception
    {
        return KeyFactory.getInstance(jdkKey.getAlgorithm(), Conscrypts.PROVIDER).generatePrivate(new PKCS8EncodedKeySpec(jdkKey.getEncoded()));
    }

    private static boolean done(SSLEngine engine)
    {
        SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        return status == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || status == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /** Drives one engine as far as it goes: tasks, then what it has to send, then what it received. */
    private void step(SSLEngine engine, ByteBuffer in, ByteBuffer out) throws SSLException
    {
        for (int i = 0; i < 20; i++)
        {
            switch (engine.getHandshakeStatus())
            {
                case NEED_TASK ->
                {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null)
                    {
                        task.run();
                    }
                }
                case NEED_WRAP -> engine.wrap(EMPTY, out);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN ->
                {
                    in.flip();
                    SSLEngineResult result = engine.unwrap(in, application);
                    in.compact();
                    application.clear();
                    if (result.bytesConsumed() == 0 && result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP)
                        return;
                }
                default ->
                {
                    in.flip();
                    if (in.hasRemaining())
                        engine.unwrap(in, application);
                    in.compact();
                    application.clear();
                    return;
                }
            }
        }
    }

    /** Hands out one credential for its key type, as SniKeyManager does on Conscrypt. */
    private static final class OneCredential extends X509ExtendedKeyManager
    {
        private final Credential credential;

        OneCredential(Credential credential)
        {
            this.credential = credential;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine)
        {
            return credential.getKeyType().equals(keyType) ? credential.getAlias() : null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket)
        {
            return chooseEngineServerAlias(keyType, issuers, null);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias)
        {
            return credential.getChain();
        }

        @Override
        public PrivateKey getPrivateKey(String alias)
        {
            return credential.getPrivateKey();
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers)
        {
            return new String[]{credential.getAlias()};
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers)
        {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket)
        {
            return null;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine)
        {
            return null;
        }
    }
}
