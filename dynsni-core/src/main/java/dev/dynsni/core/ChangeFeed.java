package dev.dynsni.core;

/**
 * The change feed's wire format, shared by the database trigger, every node and the admin tool.
 *
 * <p>Every committed change of a certificate row sends {@code NOTIFY} on {@link #CHANNEL} with the
 * payload {@code schema|name|version}: the schema of the certificate table (nodes of other schemas
 * ignore it), the stored name that changed (an exact host or {@code *.parent}) and the row's new
 * version (0 when unknown, for a delete without one). The name {@link #EVICT_ALL} means "drop
 * every cached certificate of this schema" ({@code dynsni evict --all}, a {@code TRUNCATE}). A node
 * that missed notifications (its LISTEN connection was down) catches up from the table: rows and
 * removal tombstones carry the id of the transaction that wrote them (schema V2,
 * {@code JdbcCertificateStore}).</p>
 */
public final class ChangeFeed
{
    /** The PostgreSQL channel every node LISTENs on. */
    public static final String CHANNEL = "dynsni_changes";
    /**
     * The PostgreSQL channel on which a change of the pending ACME challenges is announced (payload:
     * the schema); nodes then re-read the challenges (schema V4, {@code acme_challenge}).
     */
    public static final String ACME_CHALLENGE_CHANNEL = "dynsni_acme_challenges";
    /**
     * What follows the schema in a payload of {@link #ACME_CHALLENGE_CHANNEL} when the ACME permission
     * rules ({@code acme_allowed}) changed; a payload of the schema alone announces a challenge change.
     * The migration's trigger writes it through the placeholder {@code ${rulesSuffix}}.
     */
    public static final String ACME_RULES_SUFFIX = "|allowed";
    /** The name of a change that concerns every stored name. */
    public static final String EVICT_ALL = "*";
    private static final char SEPARATOR = '|';

    /** One change as read from the feed. */
    public record Change(String name, long version)
    {
        /** @return whether this change concerns every name ({@link #EVICT_ALL}) */
        public boolean isEvictAll()
        {
            return EVICT_ALL.equals(name);
        }
    }

    private ChangeFeed()
    {
    }

    /** @return the payload announcing a change of {@code name} at {@code version} in {@code schema} */
    public static String payload(String schema, String name, long version)
    {
        return schema + SEPARATOR + name + SEPARATOR + version;
    }

    /**
     * @param payload a notification's payload
     * @param schema  the schema this node serves
     * @return the change, or null when the payload is for another schema or not in this format
     */
    public static Change parse(String payload, String schema)
    {
        if (payload == null)
            return null;
        int first = payload.indexOf(SEPARATOR);
        int last = payload.lastIndexOf(SEPARATOR);
        if (first < 0 || last <= first || first != schema.length() || !payload.startsWith(schema))
            return null;
        String name = payload.substring(first + 1, last);
        if (name.isEmpty())
            return null;
        long version;
        try
        {
            version = Long.parseLong(payload.substring(last + 1));
        }
        catch (NumberFormatException x)
        {
            version = 0;
        }
        return new Change(name, version);
    }
}
