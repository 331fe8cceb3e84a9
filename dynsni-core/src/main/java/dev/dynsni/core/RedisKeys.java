package dev.dynsni.core;

/**
 * The Redis layout shared by the nodes and the admin tool: key names and the invalidation script.
 *
 * <p>Under a key prefix (setting {@code redis.keyPrefix}) a stored name has at most two keys: its
 * data key <code>&lt;prefix&gt;c:{&lt;name&gt;}</code> (the cached records, with a TTL) and its fence key
 * <code>&lt;prefix&gt;f:{&lt;name&gt;}</code> (the newest version announced, kept at least
 * {@link #MIN_FENCE_TTL_MILLIS}). The braces are a Redis Cluster hash tag: both keys of a name hash
 * to the same slot, so the scripts that take both ({@link #INVALIDATE_SCRIPT}, the write-back)
 * run on Redis Cluster; different names spread over the slots. (A prefix must therefore hold no
 * braces of its own.) Dropping every cached entry ({@code dynsni evict --all}) deletes
 * the keys matching {@link #dataKeyPattern(String)} and leaves the fences to expire, so that a write
 * of older data still in flight stays refused.</p>
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
        return keyPrefix + "c:{" + name + "}";
    }

    /**
     * @return the glob ({@code SCAN MATCH}, {@code KEYS}) matching exactly the data keys under the
     *     prefix: the prefix's glob characters ({@code * ? [ ]} and backslash) escaped, then {@code c:*}
     */
    public static String dataKeyPattern(String keyPrefix)
    {
        String prefix = keyPrefix + "c:";
        StringBuilder glob = new StringBuilder(prefix.length() + 4);
        for (int i = 0; i < prefix.length(); i++)
        {
            char c = prefix.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
                glob.append('\\');
            glob.append(c);
        }
        return glob.append('*').toString();
    }

    /** @return the Redis key of a stored name's fence (the newest version announced) */
    public static String fenceKey(String keyPrefix, String name)
    {
        return keyPrefix + "f:{" + name + "}";
    }
}
