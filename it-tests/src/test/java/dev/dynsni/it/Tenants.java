package dev.dynsni.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Tenant certificates for the integration tests: generated with {@link CertificateAuthority} and
 * written with plain SQL into the {@code certificate} table of the schema the Jetty node created at
 * start, as any provisioning system could.
 */
final class Tenants
{
    static final String DOMAIN = "demo.test";
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni it CA");
    private final String jdbcUrl;
    private final String schema;
    private final Map<String, IssuedCertificate> issued = new ConcurrentHashMap<>();

    Tenants(String jdbcUrl, String schema)
    {
        this.jdbcUrl = jdbcUrl;
        this.schema = schema;
    }

    static String host(int i)
    {
        return "t" + i + "." + DOMAIN;
    }

    /** Waits until the Jetty node has created the schema (it does at start), then inserts. */
    IssuedCertificate put(String host, IssuedCertificate certificate) throws Exception
    {
        awaitTable();
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + schema + ".certificate (host, key_type, chain_pem, key_pem) VALUES (?, ?, ?, ?) " +
                 "ON CONFLICT (host, key_type) DO UPDATE SET chain_pem = excluded.chain_pem, key_pem = excluded.key_pem"))
        {
            insert.setString(1, host);
            insert.setString(2, certificate.keyType());
            insert.setString(3, certificate.chainPem());
            insert.setString(4, certificate.pkcs8KeyPem());
            insert.executeUpdate();
        }
        issued.put(host, certificate);
        return certificate;
    }

    /** Inserts the certificate with its private key encrypted under the master key, as {@code dynsni import} does with one. */
    IssuedCertificate putEncrypted(String host, IssuedCertificate certificate, MasterKeys keys) throws Exception
    {
        awaitTable();
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + schema + ".certificate (host, key_type, chain_pem, key_pem, key_encoding) VALUES (?, ?, ?, ?, ?) " +
                 "ON CONFLICT (host, key_type) DO UPDATE SET chain_pem = excluded.chain_pem, key_pem = excluded.key_pem, key_encoding = excluded.key_encoding"))
        {
            insert.setString(1, host);
            insert.setString(2, certificate.keyType());
            insert.setString(3, certificate.chainPem());
            insert.setString(4, keys.encrypt(host, certificate.keyType(), certificate.pkcs8KeyPem()));
            insert.setString(5, keys.currentEncoding());
            insert.executeUpdate();
        }
        issued.put(host, certificate);
        return certificate;
    }

    /** Deletes every certificate of a stored name. */
    void delete(String host) throws Exception
    {
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             PreparedStatement delete = connection.prepareStatement("DELETE FROM " + schema + ".certificate WHERE host = ?"))
        {
            delete.setString(1, host);
            delete.executeUpdate();
        }
        issued.remove(host);
    }

    IssuedCertificate putEc(String host) throws Exception
    {
        return put(host, pki.ec(host));
    }

    IssuedCertificate issued(String host)
    {
        return issued.get(host);
    }

    CertificateAuthority pki()
    {
        return pki;
    }

    private void awaitTable() throws Exception
    {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true)
        {
            try (Connection connection = DriverManager.getConnection(jdbcUrl);
                 PreparedStatement query = connection.prepareStatement("SELECT to_regclass(?)"))
            {
                query.setString(1, schema + ".certificate");
                try (ResultSet rows = query.executeQuery())
                {
                    if (rows.next() && rows.getString(1) != null)
                        return;
                }
            }
            if (System.nanoTime() > deadline)
                fail("table " + schema + ".certificate was not created by the Jetty node");
            Thread.sleep(100);
        }
    }

    void dropSchema()
    {
        TestServices.dropSchema(schema);
    }

    /** @return the CA as a PEM file, for curl and openssl */
    Path caFile(Path dir) throws Exception
    {
        Path file = dir.resolve("ca.pem");
        Files.writeString(file, pki.caPem(), StandardCharsets.US_ASCII);
        return file;
    }

    KeyStore trustStore() throws Exception
    {
        return TlsClient.trustStore(pki.caCertificate());
    }

    static String sha256(X509Certificate certificate)
    {
        try
        {
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }
}
