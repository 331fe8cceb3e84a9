package dev.dynsni.core.store;

import java.util.List;

import dev.dynsni.core.CertificateRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RedisCodecTest
{
    @Test
    void encodeDecode_roundTrips()
    {
        List<CertificateRecord> records = List.of(
            new CertificateRecord("a.example.com", "EC", "chain\nwith lines", "key pem", "plain", 7),
            new CertificateRecord("a.example.com", "RSA", "other chain", "other key", "aes256gcm:k1", 9));
        assertEquals(records, RedisCertificateStore.decode("a.example.com", RedisCertificateStore.encode(records)));
        assertEquals(List.of(), RedisCertificateStore.decode("a.example.com", RedisCertificateStore.encode(List.of())));
    }

    @Test
    void decode_foreignOrDamagedValue_isNull()
    {
        assertNull(RedisCertificateStore.decode("a", "something else"));
        assertNull(RedisCertificateStore.decode("a", "dynsni1\nEC plain 1 !!! ???\n"));
        assertNull(RedisCertificateStore.decode("a", "dynsni1\nEC plain\n"));
    }
}
