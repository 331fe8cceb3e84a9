package dev.dynsni;

import dev.dynsni.core.Credential;

/**
 * What L1 holds for one SNI host: the valid credentials of the stored name that covers it (the exact
 * name, or the wildcard), one per key type. Immutable.
 */
final class HostCredentials
{
    final String name;
    final Credential[] credentials;
    /** The newest store version among the records this was built from. */
    final long version;

    HostCredentials(String name, Credential[] credentials, long version)
    {
        this.name = name;
        this.credentials = credentials;
        this.version = version;
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
        String wanted = underscore > 0 ? keyType.substring(0, underscore) : keyType;
        for (Credential credential : credentials)
        {
            if (credential.getKeyType().equals(wanted) && credential.isValidAt(nowMillis))
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
