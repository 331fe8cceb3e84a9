package dev.dynsni;

import java.lang.management.ManagementFactory;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.jmx.MBeanContainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The counters and operations are reachable over JMX through Jetty's MBeanContainer. */
class JmxTest
{
    @Test
    void statisticsAndOperations_areExposedOverJmx() throws Exception
    {
        CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
        try (TestStore store = new TestStore())
        {
            IssuedCertificate cert = pki.ec("jmx.example.com");
            store.put("jmx.example.com", cert);
            DynamicSniSslContextFactory factory = store.newFactory(true);
            factory.setJdbcPassword("hunter2");
            MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
            try (TestServer server = new TestServer(factory, new MBeanContainer(mbeans)))
            {
                // the feed's first subscription reloads whatever L1 holds by then: wait for it, so the counts below are exact
                for (int i = 0; i < 200 && !factory.getStatistics().isChangeFeedConnected(); i++)
                {
                    Thread.sleep(50);
                }
                TlsClient client = TlsClient.trusting(pki.caCertificate());
                assertEquals(Pem.fingerprint(cert.certificate()), Pem.fingerprint(client.handshake(server.port(), "jmx.example.com").leaf()));
                assertEquals(Pem.fingerprint(cert.certificate()), Pem.fingerprint(client.handshake(server.port(), "jmx.example.com").leaf()));

                Set<ObjectName> statistics = mbeans.queryNames(new ObjectName("dev.dynsni:type=dynamicsnistatistics,*"), null);
                assertEquals(1, statistics.size(), String.valueOf(mbeans.queryNames(new ObjectName("dev.dynsni:*"), null)));
                ObjectName stats = statistics.iterator().next();
                assertEquals(1L, mbeans.getAttribute(stats, "l1Hits"));
                assertEquals(1L, mbeans.getAttribute(stats, "loads"));
                assertEquals("up", mbeans.getAttribute(stats, "postgresState"));
                assertEquals("up", mbeans.getAttribute(stats, "redisState"));
                assertEquals(1L, mbeans.getAttribute(stats, "l1Size"));
                long bytes = (Long)mbeans.getAttribute(stats, "l1EstimatedBytes");
                assertTrue(bytes > 1000 && bytes < 10_000, "estimated bytes of one EC host: " + bytes);
                assertEquals(0L, mbeans.getAttribute(stats, "l1Evictions"));

                ObjectName factoryName = mbeans.queryNames(new ObjectName("dev.dynsni:type=dynamicsnisslcontextfactory,*"), null).iterator().next();
                mbeans.invoke(factoryName, "evict", new Object[]{"jmx.example.com"}, new String[]{String.class.getName()});
                assertEquals(0L, mbeans.getAttribute(stats, "l1Size"));
                assertEquals(0L, mbeans.getAttribute(stats, "l1EstimatedBytes"));
                mbeans.invoke(factoryName, "evictAll", new Object[0], new String[0]);

                // secrets never leak through JMX
                for (var attribute : mbeans.getMBeanInfo(factoryName).getAttributes())
                {
                    Object value = mbeans.getAttribute(factoryName, attribute.getName());
                    assertFalse(String.valueOf(value).contains("hunter2"), attribute.getName());
                }
                assertTrue(mbeans.getMBeanInfo(factoryName).getAttributes().length > 10);
            }
        }
    }
}
