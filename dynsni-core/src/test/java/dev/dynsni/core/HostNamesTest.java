package dev.dynsni.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostNamesTest
{
    @ParameterizedTest
    @CsvSource({
        "shop.example.com, shop.example.com",
        "SHOP.Example.COM, shop.example.com",
        "shop.example.com., shop.example.com",
        "a-b.c-d.example, a-b.c-d.example",
        "localhost, localhost",
        "xn--bcher-kva.example, xn--bcher-kva.example",
        "XN--BCHER-KVA.example, xn--bcher-kva.example",
        "123.example.com, 123.example.com",
        "t42.demo.test, t42.demo.test"
    })
    void normalize_acceptsAndLowercases(String raw, String expected)
    {
        assertEquals(expected, HostNames.normalize(raw));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        ".",
        "..",
        "a..b",
        ".example.com",
        "example.com..",
        "-a.example.com",
        "a-.example.com",
        "bad_name.example.com",
        "space here.example.com",
        "10.0.0.1",
        "192.168.1.1.",
        "1.2.3.4.5",
        "[::1]",
        "::1",
        "bücher.example",
        "xn--zz.example",
        "ab--cd.example",
        "*.example.com",
        "host\u0000.example.com",
        "a/b.example.com"
    })
    void normalize_rejectsInvalidNames(String raw)
    {
        assertNull(HostNames.normalize(raw), raw);
    }

    @Test
    void normalize_rejectsNull()
    {
        assertNull(HostNames.normalize(null));
    }

    @Test
    void normalize_enforcesRfc1035Lengths()
    {
        String label63 = "a".repeat(63);
        assertEquals(label63 + ".com", HostNames.normalize(label63 + ".com"));
        assertNull(HostNames.normalize("a".repeat(64) + ".com"), "64-character label");

        String name253 = String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61));
        assertEquals(253, name253.length());
        assertEquals(name253, HostNames.normalize(name253));
        assertEquals(name253, HostNames.normalize(name253 + "."), "253 plus the trailing dot");
        assertNull(HostNames.normalize(name253 + "e"), "254 characters");
        assertNull(HostNames.normalize("x".repeat(10_000)), "huge");
    }

    @ParameterizedTest
    @CsvSource({
        "a.example.com, *.example.com",
        "www.shop.example.com, *.shop.example.com",
        "example.com, *.com"
    })
    void wildcardFor_replacesTheFirstLabel(String host, String wildcard)
    {
        assertEquals(wildcard, HostNames.wildcardFor(host));
    }

    @Test
    void wildcardFor_singleLabel_isNull()
    {
        assertNull(HostNames.wildcardFor("localhost"));
    }

    @Test
    void isValidStoredName_acceptsHostsAndOneLabelWildcards()
    {
        assertTrue(HostNames.isValidStoredName("shop.example.com"));
        assertTrue(HostNames.isValidStoredName("*.example.com"));
        assertFalse(HostNames.isValidStoredName("*.com"));
        assertFalse(HostNames.isValidStoredName("*.*.example.com"));
        assertFalse(HostNames.isValidStoredName("a.*.example.com"));
        assertFalse(HostNames.isValidStoredName("Shop.example.com"));
        assertFalse(HostNames.isValidStoredName(null));
    }
}
