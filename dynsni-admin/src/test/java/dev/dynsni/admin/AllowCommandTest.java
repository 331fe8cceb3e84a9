package dev.dynsni.admin;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** allow and disallow: the ACME permission table, as operators write it. */
class AllowCommandTest extends AdminTestBase
{
    @Test
    void allow_disallow_list() throws Exception
    {
        Result allowed = run("allow", "Shop.Example.COM.", "*.tenants.example.net");
        assertEquals(0, allowed.exit(), allowed::toString);
        assertEquals("allowed shop.example.com\nallowed *.tenants.example.net\n", allowed.out());
        assertEquals(List.of("*.tenants.example.net", "shop.example.com"), column("SELECT name FROM " + schema + ".acme_allowed ORDER BY name"));

        Result again = run("allow", "shop.example.com");
        assertEquals(0, again.exit(), again::toString);
        assertEquals("already allowed shop.example.com\n", again.out());

        Result list = run("allow", "--list");
        assertEquals("*.tenants.example.net\nshop.example.com\n", list.out(), list::toString);

        Result disallowed = run("disallow", "shop.example.com", "nothere.example.com");
        assertEquals(DynSni.EXIT_REJECTED, disallowed.exit(), disallowed::toString);
        assertEquals("disallowed shop.example.com\n", disallowed.out());
        assertEquals("not allowed: nothere.example.com (no such rule; 'dynsni allow --list' shows them)\n", disallowed.err());
        assertEquals(List.of("*.tenants.example.net"), column("SELECT name FROM " + schema + ".acme_allowed"));
    }

    @Test
    void badNames_rejectedInOneLine_nothingWritten() throws Exception
    {
        Result result = run("allow", "ok.example.com", "*.com");
        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertEquals(List.of("dynsni allow: error: '*.com' is not valid: a wildcard needs a parent of at least two labels (*.example.com), not a top-level domain"),
            result.errLines());
        assertEquals(List.of(), column("SELECT name FROM " + schema + ".acme_allowed WHERE name = 'ok.example.com'"), "all or nothing");

        Result usage = run("allow");
        assertEquals(DynSni.EXIT_USAGE, usage.exit(), usage::toString);
        assertTrue(usage.err().contains("NAME or --list is required"), usage::toString);
    }
}
