package dev.dynsni;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Security;
import java.security.spec.PKCS8EncodedKeySpec;
import javax.net.ssl.SSLEngine;

import dev.dynsni.core.Credential;
import org.conscrypt.Conscrypt;

/**
 * What the module needs of Conscrypt (BoringSSL), kept in one class so that nothing else loads
 * Conscrypt's classes: on JSSE, or where the Conscrypt jar is absent, this class is never touched
 * except through {@link #isConscrypt(SSLEngine)}, which only reads a class name.
 */
final class Conscrypts
{
    /** The JCA provider name of Conscrypt, as {@code jetty.sslContext.provider} names it. */
    static final String PROVIDER = "Conscrypt";

    private Conscrypts()
    {
    }

    /**
     * Registers Conscrypt as a JCA provider unless it already is (Jetty's ALPN processor for
     * Conscrypt may have done it).
     *
     * @return null when Conscrypt is registered and its native library loaded; otherwise why not,
     *     as one line for the log
     */
    static String install()
    {
        try
        {
            Conscrypt.checkAvailability();
            if (Security.getProvider(PROVIDER) == null)
                Security.addProvider(Conscrypt.newProvider());
            return null;
        }
        catch (NoClassDefFoundError x)
        {
            return "the Conscrypt jar is not on the class path (" + x.getMessage() + ")";
        }
        catch (Throwable x)
        {
            Throwable cause = x;
            while (cause.getCause() != null && cause.getCause() != cause)
            {
                cause = cause.getCause();
            }
            return "its native library cannot be loaded on " + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + " (" + cause + ")";
        }
    }

    /**
     * The credential with its private key in Conscrypt's native form (BoringSSL's), so that
     * Conscrypt uses the key as it is instead of re-encoding and parsing it on every handshake, as
     * it does with a JDK key.
     *
     * @return the credential with a native key; the credential itself for a key type Conscrypt
     *     cannot hold (it then converts it per handshake, as before)
     */
    static Credential withNativeKey(Credential credential)
    {
        PrivateKey key = credential.getPrivateKey();
        if (!"EC".equals(key.getAlgorithm()) && !"RSA".equals(key.getAlgorithm()))
            return credential;
        try
        {
            PrivateKey converted = KeyFactory.getInstance(key.getAlgorithm(), PROVIDER).generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
            return credential.withPrivateKey(converted);
        }
        catch (GeneralSecurityException | RuntimeException x)
        {
            return credential;
        }
    }

    /**
     * Keeps session tickets off on a Conscrypt engine (Conscrypt 2.6.0's default, made explicit here
     * so that a later Conscrypt changing it cannot change what the module promises). With tickets on,
     * BoringSSL gives a TLS 1.3 ticket a lifetime of its own, 2 days (renewed on each resumption, up
     * to 7), and Conscrypt has no way to shorten it: the session timeout
     * ({@code jetty.sslContext.sslSessionTimeout}) only bounds TLS 1.2 sessions there, so a client
     * could resume a removed or replaced certificate for days. Without tickets, TLS 1.3 is never
     * resumed, and TLS 1.2 resumes from Conscrypt's session-id cache within the session timeout.
     */
    static void keepSessionTicketsOff(SSLEngine engine)
    {
        Conscrypt.setUseSessionTickets(engine, false);
    }

    /** @return whether the engine is one of Conscrypt's (its wrapper or the engine it wraps) */
    static boolean isConscrypt(SSLEngine engine)
    {
        return engine != null && engine.getClass().getName().startsWith("org.conscrypt.");
    }

    /** @return the version of the Conscrypt jar in use */
    static String version()
    {
        Conscrypt.Version version = Conscrypt.version();
        return version == null ? "unknown" : version.major() + "." + version.minor() + "." + version.patch();
    }
}
