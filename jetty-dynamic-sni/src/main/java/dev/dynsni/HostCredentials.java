package dev.dynsni;

import dev.dynsni.core.Credential;
import dev.dynsni.core.HeapEstimate;

/**
 * What L1 holds for one SNI host: the valid credentials of the stored name that covers it (the exact
 * name, or the wildcard), one per key type. Immutable.
 */
final class HostCredentials
{
    /**
     * What an L1 entry costs besides its credentials: Caffeine's node, the map's node, the
     * completed future, this object and the credentials array's share of Caffeine's sketch (the host
     * name is added per entry). Fitted so that whole entries match the heap measured by
     * {@code L1MemoryTest}.
     */
    static final int ENTRY_BYTES = 300;

    final String name;
    final Credential[] credentials;
    /** The newest store version among the records this was built from. */
    final long version;
    /** Estimated heap the entry of {@link #owner} retains (its entry and its credentials); 0 for one that is not in L1. */
    final int estimatedBytes;
    /**
     * The host whose load built this, when it is shared by every host a wildcard serves: only that
     * host's entry counts the credentials; null when it is held for one host only.
     */
    final String owner;

    HostCredentials(String name, Credential[] credentials, long version)
    {
        this(name, credentials, version, 0, null);
    }

    HostCredentials(String name, Credential[] credentials, long version, int estimatedBytes, String owner)
    {
        this.name = name;
        this.credentials = credentials;
        this.version = version;
        this.estimatedBytes = estimatedBytes;
        this.owner = owner;
    }

    /** @return the estimated heap the L1 entry of the host retains with this */
    int estimatedBytesFor(String host)
    {
        return owner == null || owner.equals(host) ? estimatedBytes : entryBytes(host);
    }

    /** @return the estimated bytes of an L1 entry for the host, without its credentials */
    static int entryBytes(String host)
    {
        return ENTRY_BYTES + HeapEstimate.string(host.length());
    }

    /** @return the estimated bytes of the credentials and their array (what parsing them added to the heap) */
    static int credentialBytes(Credential[] credentials)
    {
        long bytes = HeapEstimate.references(credentials.length);
        for (Credential credential : credentials)
        {
            bytes += credential.getEstimatedBytes();
        }
        return (int)Math.min(Integer.MAX_VALUE, bytes);
    }

    /**
     * @param keyType   the key type JSSE asks for ({@code EC}, {@code RSA}, {@code RSASSA-PSS}, {@code EdDSA},
     *                  or a TLS 1.2 form such as {@code EC_EC})
     * @param nowMillis the current time
     * @return the credential of that key type valid now, or null
     */
    Credential select(String keyType, long nowMillis)
    {
        int underscore = keyType.indexOf('_');
        int length = underscore > 0 ? underscore : keyType.length();
        for (Credential credential : credentials)
        {
            String held = credential.getKeyType();
            if (held.length() == length && keyType.startsWith(held) && credential.isValidAt(nowMillis))
                return credential;
        }
        return null;
    }

    Credential byAlias(String alias)
    {
        for (Credential credential : credentials)
        {
            if (credential.getAlias().equals(alias))
                return credential;
        }
        return null;
    }
}
