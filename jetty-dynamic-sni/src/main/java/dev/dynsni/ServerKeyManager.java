package dev.dynsni;

import java.net.Socket;
import java.security.Principal;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager for the server side only: it lists no aliases and never acts for a client, so a
 * subclass implements just how it chooses a server alias and what the alias names.
 */
abstract class ServerKeyManager extends X509ExtendedKeyManager
{
    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers)
    {
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers)
    {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket)
    {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine)
    {
        return null;
    }
}
