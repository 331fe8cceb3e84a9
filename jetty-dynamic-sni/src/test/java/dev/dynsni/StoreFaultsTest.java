package dev.dynsni;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

import dev.dynsni.core.Pem;
import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.RedisProcess;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Store outages on instances of the test's own: a redis-server it starts and kills, and PostgreSQL
 * behind a TCP proxy it cuts (the shared services are never stopped). Hosts held in L1 keep being
 * served, the surviving tier answers, and everything recovers without restarting Jetty.
 */
class StoreFaultsTest
{
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
    private TestStore store;
    private RedisProcess redis;
    private TcpProxy postgresProxy;
    private DynamicSniSslContextFactory factory;
    private TestServer server;
    private TlsClient client;
    private IssuedCertificate defaultCert;

    @BeforeEach
    void start() throws Exception
    {
        store = new TestStore();
        redis = new RedisProcess().start();
        postgresProxy = new TcpProxy(TestServices.postgresAddress());
        defaultCert = pki.ec("default.invalid");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("dynsni-default");
        factory = store.register(new DynamicSniSslContextFactory());
        factory.setJdbcUrl(TestServices.jdbcUrlVia("127.0.0.1", postgresProxy.port()));
        factory.setJdbcSchema(store.schema);
        factory.setJdbcTimeoutMillis(1000);
        factory.setRedisAddress(redis.url());
        factory.setRedisKeyPrefix(store.keyPrefix);
        factory.setRedisTimeoutMillis(300);
        factory.setLookupTimeoutMillis(3000);
        factory.setDefaultCertificatePath(java.nio.file.Files.writeString(dir.resolve("d.crt"), defaultCert.chainPem()).toString());
        factory.setDefaultKeyPath(java.nio.file.Files.writeString(dir.resolve("d.key"), defaultCert.pkcs8KeyPem()).toString());
        server = new TestServer(factory);
        client = TlsClient.trusting(pki.caCertificate());
    }

    @AfterEach
    void stop() throws Exception
    {
        if (server != null)
            server.close();
        if (postgresProxy != null)
            postgresProxy.close();
        if (redis != null)
            redis.close();
        if (store != null)
            store.close();
    }

    private String served(String host)
    {
        TlsClient.Result result = client.handshake(server.port(), host);
        assertTrue(result.ok(), () -> host + ": " + result.failure());
        return Pem.fingerprint(result.leaf());
    }

    private static String fp(IssuedCertificate issued)
    {
        return Pem.fingerprint(issued.certificate());
    }

    private static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException
    {
        Instant deadline = Instant.now().plus(limit);
        while (!condition.getAsBoolean())
        {
            if (Instant.now().isAfter(deadline))
                throw new AssertionError(what + " not within " + limit);
            Thread.sleep(50);
        }
    }

    private IssuedCertificate add(String host) throws Exception
    {
        IssuedCertificate cert = pki.ec(host);
        store.put(host, cert);
        return cert;
    }

    @Test
    void redisDown_postgresAnswers_andRedisRecovers() throws Exception
    {
        IssuedCertificate held = add("held.example.com");
        assertEquals(fp(held), served("held.example.com"));

        redis.kill();
        IssuedCertificate fresh = add("fresh.example.com");
        assertEquals(fp(held), served("held.example.com"), "L1 keeps serving");
        assertEquals(fp(fresh), served("fresh.example.com"), "PostgreSQL answers while Redis is down");
        assertEquals("down", factory.getStatistics().getRedisState());

        redis.start();
        IssuedCertificate later = add("later.example.com");
        await("Redis tier back up", Duration.ofSeconds(15), () ->
        {
            factory.evict("later.example.com");
            return fp(later).equals(served("later.example.com")) && "up".equals(factory.getStatistics().getRedisState());
        });
    }

    @Test
    void postgresDown_redisAnswers_andPostgresRecovers() throws Exception
    {
        IssuedCertificate inRedis = add("inredis.example.com");
        assertEquals(fp(inRedis), served("inredis.example.com"));
        // written back to Redis asynchronously after the PostgreSQL read
        RedissonClient redisClient = redisClient();
        try
        {
            String key = RedisKeys.dataKey(store.keyPrefix, "inredis.example.com");
            // the write-back can land before the fence of the insert's own notification, which then drops it:
            // until Redis holds the host, load it again (L1 evicted, so it is read and written back once more)
            await("Redis holds the host", Duration.ofSeconds(15), () ->
            {
                if (factory.getStatistics().getRedisHits() > 0 || redisClient.getKeys().countExists(key) > 0)
                    return true;
                factory.evict("inredis.example.com");
                served("inredis.example.com");
                return redisClient.getKeys().countExists(key) > 0;
            });
        }
        finally
        {
            redisClient.shutdown();
        }
        IssuedCertificate notLoaded = add("notloaded.example.com");

        postgresProxy.cut();
        factory.evict("inredis.example.com");
        assertEquals(fp(inRedis), served("inredis.example.com"), "Redis answers while PostgreSQL is down");
        // a host only PostgreSQL knows cannot be served now: the unknown-host policy applies, nothing breaks
        assertEquals(fp(defaultCert), served("notloaded.example.com"));
        assertEquals("down", factory.getStatistics().getPostgresState());

        postgresProxy.restore();
        await("PostgreSQL back", Duration.ofSeconds(15), () -> fp(notLoaded).equals(served("notloaded.example.com")));
        // the change feed reconnected: a plain SQL change is served again without restart
        IssuedCertificate replaced = pki.ec("inredis.example.com");
        await("feed reconnected", Duration.ofSeconds(15), () ->
        {
            try
            {
                store.put("inredis.example.com", replaced);
            }
            catch (Exception x)
            {
                return false;
            }
            return fp(replaced).equals(served("inredis.example.com"));
        });
    }

    @Test
    void bothDown_l1KeepsServing_thenEverythingRecovers() throws Exception
    {
        IssuedCertificate held = add("both.example.com");
        assertEquals(fp(held), served("both.example.com"));
        IssuedCertificate cold = add("cold.example.com");

        redis.kill();
        postgresProxy.cut();
        long errorsBefore = factory.getStatistics().getLoadErrors();
        for (int i = 0; i < 5; i++)
        {
            assertEquals(fp(held), served("both.example.com"), "L1 keeps serving with both stores down " + factory.getStatistics());
        }
        assertEquals(fp(defaultCert), served("cold.example.com"), "unreachable stores fall to the unknown-host policy");
        assertTrue(factory.getStatistics().getLoadErrors() > errorsBefore);

        redis.start();
        postgresProxy.restore();
        await("recovered", Duration.ofSeconds(20), () -> fp(cold).equals(served("cold.example.com")));
        assertEquals(fp(held), served("both.example.com"));
    }

    private RedissonClient redisClient()
    {
        Config config = new Config();
        config.useSingleServer().setAddress(redis.url());
        return Redisson.create(config);
    }
}
