package dev.dynsni.core;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Credential;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CredentialParserTest
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");

    private static CertificateRecord record(String keyType, String chain, String key)
    {
        return new CertificateRecord("host.example.com", keyType, chain, key, CertificateRecord.PLAIN, 1);
    }

    @Test
    void parse_ecSec1AndPkcs8_rsaPkcs1AndPkcs8() throws Exception
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        IssuedCertificate rsa = PKI.rsa("host.example.com");
        long now = System.currentTimeMillis();
        assertTrue(ec.traditionalKeyPem().contains("EC PRIVATE KEY"));
        assertTrue(rsa.traditionalKeyPem().contains("RSA PRIVATE KEY"));
        assertEquals("EC", CredentialParser.parse(record("EC", ec.chainPem(), ec.traditionalKeyPem()), now).getKeyType());
        assertEquals("EC", CredentialParser.parse(record("EC", ec.chainPem(), ec.pkcs8KeyPem()), now).getKeyType());
        assertEquals("RSA", CredentialParser.parse(record("RSA", rsa.chainPem(), rsa.traditionalKeyPem()), now).getKeyType());
        assertEquals("RSA", CredentialParser.parse(record("RSA", rsa.chainPem(), rsa.pkcs8KeyPem()), now).getKeyType());
    }

    @Test
    void parse_putsChainLeafFirst() throws Exception
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        Credential credential = CredentialParser.parse(record("EC", ec.reversedChainPem(), ec.pkcs8KeyPem()), System.currentTimeMillis());
        assertEquals(ec.certificate(), credential.getChain()[0]);
        assertEquals(PKI.caCertificate(), credential.getChain()[1]);
        assertEquals(Pem.fingerprint(ec.certificate()), credential.getFingerprint());
    }

    @Test
    void parse_dropsCertificatesOffTheLeafPath() throws Exception
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        IssuedCertificate unrelated = CertificateAuthority.create("other CA").ec("other.example.com");
        Credential credential = CredentialParser.parse(record("EC", Pem.encode(unrelated.certificate()) + ec.chainPem(), ec.pkcs8KeyPem()), System.currentTimeMillis());
        assertEquals(2, credential.getChain().length);
        assertEquals(ec.certificate(), credential.getChain()[0]);
    }

    @Test
    void parse_keyMismatch_isRejected()
    {
        IssuedCertificate a = PKI.ec("a.example.com");
        IssuedCertificate b = PKI.ec("b.example.com");
        InvalidCredentialException x = assertThrows(InvalidCredentialException.class,
            () -> CredentialParser.parse(record("EC", a.chainPem(), b.pkcs8KeyPem()), System.currentTimeMillis()));
        assertEquals("private key does not match any certificate of the chain", x.getMessage());
    }

    @Test
    void parse_rsaKeyMismatch_isRejected()
    {
        IssuedCertificate a = PKI.rsa("a.example.com");
        IssuedCertificate b = PKI.rsa("b.example.com");
        assertThrows(InvalidCredentialException.class, () -> CredentialParser.parse(record("RSA", a.chainPem(), b.traditionalKeyPem()), System.currentTimeMillis()));
    }

    @Test
    void parse_outsideValidity_isRejected()
    {
        IssuedCertificate expired = PKI.issue(false, Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)), "old.example.com");
        IssuedCertificate future = PKI.issue(false, Instant.now().plus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(10)), "new.example.com");
        long now = System.currentTimeMillis();
        assertTrue(assertThrows(InvalidCredentialException.class, () -> CredentialParser.parse(record("EC", expired.chainPem(), expired.pkcs8KeyPem()), now))
            .getMessage().startsWith("certificate expired at"));
        assertTrue(assertThrows(InvalidCredentialException.class, () -> CredentialParser.parse(record("EC", future.chainPem(), future.pkcs8KeyPem()), now))
            .getMessage().startsWith("certificate is not valid before"));
    }

    @Test
    void parse_corruptOrEmptyPem_isRejectedWithoutKeyMaterialInTheMessage()
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        String key = ec.pkcs8KeyPem();
        String corruptKey = key.substring(0, 40) + "!!!!" + key.substring(44);
        for (String[] bad : new String[][]{
            {"", key},
            {"garbage", key},
            {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", key},
            {ec.chainPem(), ""},
            {ec.chainPem(), corruptKey},
            {ec.chainPem(), ec.chainPem()},
            {ec.chainPem(), key + key}
        })
        {
            InvalidCredentialException x = assertThrows(InvalidCredentialException.class,
                () -> CredentialParser.parse(record("EC", bad[0], bad[1]), System.currentTimeMillis()));
            assertFalse(x.getMessage().contains(key.substring(30, 60)), x.getMessage());
        }
    }

    @Test
    void parse_rowKeyTypeContradictingTheKey_isRejected()
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        assertThrows(InvalidCredentialException.class, () -> CredentialParser.parse(record("RSA", ec.chainPem(), ec.pkcs8KeyPem()), System.currentTimeMillis()));
    }

    @Test
    void parse_unknownKeyEncoding_isRejected()
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        CertificateRecord encrypted = new CertificateRecord("host.example.com", "EC", ec.chainPem(), "opaque", "aes256gcm:k1", 1);
        assertThrows(InvalidCredentialException.class, () -> CredentialParser.parse(encrypted, System.currentTimeMillis()));
    }

    @Test
    void credential_toStringNeverShowsTheKey() throws Exception
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        Credential credential = CredentialParser.parse(record("EC", ec.chainPem(), ec.pkcs8KeyPem()), System.currentTimeMillis());
        assertFalse(credential.toString().contains("PRIVATE"));
        assertFalse(record("EC", ec.chainPem(), ec.pkcs8KeyPem()).toString().contains("PRIVATE"));
    }

    @Test
    void parse_withAPool_sharesTheCertificatesItHolds_andCountsThemForTheirFirstName() throws Exception
    {
        CertificateAuthority intermediate = PKI.intermediate("dynsni test intermediate");
        IssuedCertificate a = intermediate.ec("a.example.com");
        IssuedCertificate b = intermediate.ec("b.example.com");
        Map<String, X509Certificate> held = new HashMap<>();
        CertificatePool pool = (sha256, certificate) -> held.computeIfAbsent(HexFormat.of().formatHex(sha256), k -> certificate);
        long now = System.currentTimeMillis();
        Credential first = CredentialParser.parse(new CertificateRecord("a.example.com", "EC", a.chainPem(), a.pkcs8KeyPem(), CertificateRecord.PLAIN, 1), null, now, pool);
        Credential second = CredentialParser.parse(new CertificateRecord("b.example.com", "EC", b.chainPem(), b.pkcs8KeyPem(), CertificateRecord.PLAIN, 1), null, now, pool);
        Credential again = CredentialParser.parse(new CertificateRecord("a.example.com", "EC", a.chainPem(), a.pkcs8KeyPem(), CertificateRecord.PLAIN, 2), null, now, pool);
        Credential alone = CredentialParser.parse(new CertificateRecord("b.example.com", "EC", b.chainPem(), b.pkcs8KeyPem(), CertificateRecord.PLAIN, 1), now);

        assertSame(first.getChain()[1], second.getChain()[1]);
        assertSame(first.getLeaf(), again.getLeaf());
        assertEquals(intermediate.caCertificate(), second.getChain()[1]);
        // b shares the intermediate a brought in; a reloaded still counts what it brought in
        int intermediateBytes = alone.getEstimatedBytes() - second.getEstimatedBytes();
        assertTrue(intermediateBytes > intermediate.caCertificate().getEncoded().length, "intermediate counted once: " + intermediateBytes);
        assertEquals(first.getEstimatedBytes(), again.getEstimatedBytes());
        assertEquals(3, held.size());
    }

    @Test
    void parse_nameWithTheAliasSeparator_isRejected()
    {
        IssuedCertificate ec = PKI.ec("host.example.com");
        CertificateRecord bad = new CertificateRecord("host|example.com", "EC", ec.chainPem(), ec.pkcs8KeyPem(), CertificateRecord.PLAIN, 1);
        assertThrows(InvalidCredentialException.class, () -> CredentialParser.parse(bad, System.currentTimeMillis()));
    }

    @Test
    void credential_derivesNameAndFingerprintFromItsAlias() throws Exception
    {
        IssuedCertificate ec = PKI.ec("*.example.com");
        Credential credential = CredentialParser.parse(new CertificateRecord("*.example.com", "EC", ec.chainPem(), ec.pkcs8KeyPem(), CertificateRecord.PLAIN, 1),
            System.currentTimeMillis());
        assertEquals("*.example.com", credential.getName());
        assertEquals(ec.fingerprint(), credential.getFingerprint());
        assertEquals("dynsni|*.example.com|EC|" + ec.fingerprint(), credential.getAlias());
    }

    @Test
    void warmUp_parsesItsThrowAwayCredential()
    {
        assertTrue(CredentialParser.warmUp());
    }
}
