package dev.dynsni.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChangeFeedTest
{
    @Test
    void payload_roundTrips_forItsSchemaOnly()
    {
        String payload = ChangeFeed.payload("hosting", "*.example.com", 42);
        assertEquals("hosting|*.example.com|42", payload);
        assertEquals(new ChangeFeed.Change("*.example.com", 42), ChangeFeed.parse(payload, "hosting"));
        assertNull(ChangeFeed.parse(payload, "other"));
        assertNull(ChangeFeed.parse(payload, "hostin"));
    }

    @Test
    void evictAll_andBadPayloads()
    {
        assertTrue(ChangeFeed.parse(ChangeFeed.payload("s", ChangeFeed.EVICT_ALL, 0), "s").isEvictAll());
        assertEquals(0, ChangeFeed.parse("s|a.example.com|x", "s").version());
        assertNull(ChangeFeed.parse("s|42", "s"));
        assertNull(ChangeFeed.parse("s||42", "s"));
        assertNull(ChangeFeed.parse(null, "s"));
        assertNull(ChangeFeed.parse("garbage", "s"));
    }
}
