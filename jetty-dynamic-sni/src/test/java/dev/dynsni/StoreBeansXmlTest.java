package dev.dynsni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.CachingCertificateStore;
import dev.dynsni.core.store.InMemoryCertificateMap;
import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.xml.XmlConfiguration;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stores are beans: composed over the store interfaces in Jetty XML, set on the factory with
 * {@code setCertificateStore}, started and stopped with it, as a user's own XML would do.
 */
class StoreBeansXmlTest
{
    private static final String XML = """
        <?xml version="1.0"?>
        <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
        <Configure class="dev.dynsni.DynamicSniSslContextFactory">
          <Set name="certificateStore">
            <New class="dev.dynsni.core.store.CachingCertificateStore">
              <Arg><New class="dev.dynsni.core.store.InMemoryCertificateMap" /></Arg>
              <Arg>
                <New class="dev.dynsni.core.store.JdbcCertificateStore">
                  <Set name="url"><Property name="test.jdbc.url" /></Set>
                  <Set name="schema"><Property name="test.jdbc.schema" /></Set>
                  <Set name="maxPoolSize">2</Set>
                </New>
              </Arg>
            </New>
          </Set>
          <Set name="unknownHostPolicy">reject</Set>
        </Configure>
        """;

    @Test
    void storesComposedInXml_serveHandshakes_andStopWithTheFactory() throws Exception
    {
        CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
        IssuedCertificate shop = pki.ec("shop.beans.test");
        try (TestStore rows = new TestStore(); ResourceFactory.Closeable resources = ResourceFactory.closeable())
        {
            rows.put("shop.beans.test", shop);
            XmlConfiguration configuration = new XmlConfiguration(resources.newResource(write(XML)));
            configuration.getProperties().putAll(Map.of("test.jdbc.url", TestServices.jdbcUrl(), "test.jdbc.schema", rows.schema));
            DynamicSniSslContextFactory factory = (DynamicSniSslContextFactory)configuration.configure();
            CachingCertificateStore store = assertInstanceOf(CachingCertificateStore.class, factory.getCertificateStore());
            InMemoryCertificateMap cache = assertInstanceOf(InMemoryCertificateMap.class, store.getCache());
            JdbcCertificateStore jdbc = assertInstanceOf(JdbcCertificateStore.class, store.getSource());
            try (TestServer server = new TestServer(factory))
            {
                TlsClient client = TlsClient.trusting(pki.caCertificate());
                TlsClient.Result served = client.handshake(server.port(), "shop.beans.test");
                assertTrue(served.ok(), String.valueOf(served.failure()));
                assertEquals(Pem.fingerprint(shop.certificate()), Pem.fingerprint(served.leaf()));
                assertNotNull(jdbc.getDataSource(), "the factory started the composed stores");
                // the PostgreSQL answer was written back to the map in front of it
                List<CertificateRecord> cached = cache.get(List.of("shop.beans.test")).get().get("shop.beans.test");
                assertEquals(1, cached.size());
                assertFalse(client.handshake(server.port(), "unknown.beans.test").ok(), "the XML's policy applies");
            }
            assertNull(jdbc.getDataSource(), "stopping the factory stopped the stores");
        }
    }

    private static Path write(String xml) throws IOException
    {
        Path file = Files.createTempFile("stores", ".xml");
        file.toFile().deleteOnExit();
        Files.writeString(file, xml.strip());
        return file;
    }
}
