package dev.dynsni.core.acme;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Setting;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's ACME account at one directory: its key lives in {@code acme_account} (encrypted with the
 * current master key when one is configured, with the directory URL as associated data), created by
 * whichever node needs it first ({@code INSERT ... ON CONFLICT DO NOTHING}, then everyone reads the
 * winner's key), and registered with the CA once, agreeing to its terms of service. Every node then
 * logs in with the stored account URL without asking the CA.
 *
 * <p>Registering is "find or create": ACME's newAccount with a known key returns the existing account,
 * so two nodes registering at once get the same account, and a CA that lost its accounts (a restarted
 * Pebble) gets the same key registered again ({@link #forget()} after {@code accountDoesNotExist}).
 * Thread-safe: the login is cached behind this object's lock.</p>
 */
public final class AcmeAccount
{
    /** The key type given to {@link MasterKeys} as associated data for account keys. */
    static final String KEY_PURPOSE = "acme-account";
    private static final Logger LOG = LoggerFactory.getLogger(AcmeAccount.class);

    private final Connections connections;
    private final String schema;
    private final Session session;
    private final String directoryUrl;
    private final String email;
    private final MasterKeys masterKeys;
    private Login login;

    public AcmeAccount(Connections connections, String schema, Session session, String directoryUrl, String email, MasterKeys masterKeys)
    {
        this.connections = connections;
        this.schema = schema;
        this.session = session;
        this.directoryUrl = directoryUrl;
        this.email = email == null || email.isBlank() ? null : email.trim();
        this.masterKeys = masterKeys;
    }

    /** @return a login of the account, registering it first when the directory has not seen it */
    public synchronized Login login() throws AcmeException, SQLException
    {
        if (login != null)
            return login;
        Stored stored = loadOrCreate();
        if (stored.accountUrl() != null)
        {
            login = session.login(stored.accountUrl(), stored.keys());
            return login;
        }
        return register(stored);
    }

    /**
     * Registers the stored key with the CA (creating the key when none is stored), agreeing to its terms
     * of service; for an already registered key the CA answers with the existing account.
     *
     * @return the account URL
     */
    public synchronized URL register() throws AcmeException, SQLException
    {
        return register(loadOrCreate()).getAccountLocation();
    }

    /** Forgets the cached login, e.g. when the CA no longer knows the account: the next {@link #login()} registers again. */
    public synchronized void forget()
    {
        login = null;
        try (Connection connection = connections.get();
             PreparedStatement clear = connection.prepareStatement("UPDATE " + schema + ".acme_account SET account_url = NULL, updated_at = now() WHERE directory_url = ?"))
        {
            clear.setString(1, directoryUrl);
            clear.executeUpdate();
        }
        catch (SQLException x)
        {
            LOG.warn("Could not clear the ACME account URL directory={} reason={}", directoryUrl, x.toString());
        }
    }

    /** @return the stored account URL, or null when not registered */
    public URL storedUrl() throws SQLException
    {
        Stored stored = load();
        return stored == null ? null : stored.accountUrl();
    }

    private Login register(Stored stored) throws AcmeException, SQLException
    {
        AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(stored.keys());
        if (email != null)
            builder.addEmail(email);
        Login fresh = builder.createLogin(session);
        URL url = fresh.getAccountLocation();
        try (Connection connection = connections.get();
             PreparedStatement update = connection.prepareStatement("UPDATE " + schema + ".acme_account SET account_url = ?, email = ?, updated_at = now() WHERE directory_url = ?"))
        {
            update.setString(1, url.toString());
            update.setString(2, email);
            update.setString(3, directoryUrl);
            update.executeUpdate();
        }
        LOG.info("ACME account registered directory={} account={}", directoryUrl, url);
        login = fresh;
        return fresh;
    }

    private record Stored(KeyPair keys, URL accountUrl)
    {
    }

    private Stored loadOrCreate() throws SQLException
    {
        Stored stored = load();
        if (stored != null)
            return stored;
        KeyPair keys = KeyPairUtils.createECKeyPair("secp256r1");
        String pem;
        try
        {
            StringWriter writer = new StringWriter();
            KeyPairUtils.writeKeyPair(keys, writer);
            pem = writer.toString();
        }
        catch (IOException x)
        {
            throw new IllegalStateException("cannot encode the new ACME account key", x);
        }
        try (Connection connection = connections.get();
             PreparedStatement insert = connection.prepareStatement(
                 "INSERT INTO " + schema + ".acme_account (directory_url, key_pem, key_encoding, email) VALUES (?, ?, ?, ?) ON CONFLICT (directory_url) DO NOTHING"))
        {
            insert.setString(1, directoryUrl);
            insert.setString(2, masterKeys == null ? pem : masterKeys.encrypt(directoryUrl, KEY_PURPOSE, pem));
            insert.setString(3, masterKeys == null ? CertificateRecord.PLAIN : masterKeys.currentEncoding());
            insert.setString(4, email);
            insert.executeUpdate();
        }
        stored = load();
        if (stored == null)
            throw new SQLException("the ACME account row of " + directoryUrl + " vanished right after it was written");
        return stored;
    }

    private Stored load() throws SQLException
    {
        try (Connection connection = connections.get();
             PreparedStatement select = connection.prepareStatement("SELECT key_pem, key_encoding, account_url FROM " + schema + ".acme_account WHERE directory_url = ?"))
        {
            select.setString(1, directoryUrl);
            try (ResultSet rs = select.executeQuery())
            {
                if (!rs.next())
                    return null;
                String pem = decrypt(rs.getString(1), rs.getString(2));
                KeyPair keys;
                try
                {
                    keys = KeyPairUtils.readKeyPair(new StringReader(pem));
                }
                catch (IOException | RuntimeException x)
                {
                    throw new SQLException("the ACME account key of " + directoryUrl + " in " + schema + ".acme_account is not a PEM key pair");
                }
                String url = rs.getString(3);
                return new Stored(keys, url == null ? null : toUrl(url));
            }
        }
    }

    private String decrypt(String stored, String encoding) throws SQLException
    {
        if (CertificateRecord.PLAIN.equals(encoding))
            return stored;
        if (masterKeys == null)
            throw new SQLException("the ACME account key of " + directoryUrl + " is encrypted (" + encoding + ") but no master key is configured: set " + Setting.MASTER_KEY_FILE.property());
        try
        {
            return masterKeys.decrypt(directoryUrl, KEY_PURPOSE, encoding, stored);
        }
        catch (InvalidCredentialException x)
        {
            throw new SQLException("the ACME account key of " + directoryUrl + " cannot be decrypted: " + x.getMessage());
        }
    }

    private static URL toUrl(String url) throws SQLException
    {
        try
        {
            return URI.create(url).toURL();
        }
        catch (MalformedURLException | IllegalArgumentException x)
        {
            throw new SQLException("stored ACME account URL is not a URL: " + url);
        }
    }
}
