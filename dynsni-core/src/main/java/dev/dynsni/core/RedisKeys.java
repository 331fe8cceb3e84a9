package dev.dynsni.core;

/**
 * The Redis layout shared by the nodes and the admin tool: key names and the invalidation script.
 * Free of Jetty and Redisson classes, so the admin tool (which ships without them) can use it.
 */
public final class RedisKeys
{
    /**
     * Fences a name at {@code ARGV[1]} (kept {@code ARGV[2]} ms, never lowered) and drops its value;
     * KEYS are {@link #dataKey(String, String)} and {@link #fenceKey(String, String)}. The admin
     * tool invalidates with it too.
     */
    public static final String INVALIDATE_SCRIPT =
        "local f = redis.call('GET', KEYS[2]) " +
        "if (not f) or tonumber(f) < tonumber(ARGV[1]) then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end " +
        "redis.call('DEL', KEYS[1]) " +
        "return 1";

    /** Shortest life of a fence: longer than any read in flight could take. */
    public static final long MIN_FENCE_TTL_MILLIS = 60_000;

    private RedisKeys()
    {
    }

    /** @return the Redis key of a stored name's cached records */
    public static String dataKey(String keyPrefix, String name)
    {
        return keyPrefix + "c:" + name;
    }

    /** @return the Redis key of a stored name's fence (the newest version announced) */
    public static String fenceKey(String keyPrefix, String name)
    {
        return keyPrefix + "f:" + name;
    }
}
