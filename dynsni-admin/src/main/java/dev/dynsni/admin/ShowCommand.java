package dev.dynsni.admin;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.HostNames;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.Pem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show", description = {
    "Show what is stored for HOST, per key type: subject, SANs, issuer, serial, key type, validity, fingerprint, updated-at.",
    "When HOST has no certificate of its own, shows the *.parent wildcard that serves it. Never shows key material."
})
class ShowCommand extends StoreCommand
{
    @Parameters(index = "0", paramLabel = "HOST", description = "A host name, or a *.parent wildcard.")
    String host;

    private record Row(String name, String keyType, String chainPem, String keyEncoding, long version, java.sql.Timestamp updatedAt)
    {
    }

    @Override
    public Integer call()
    {
        String name = CertificateLoader.normalizeName(host);
        if (name == null)
            throw CliException.rejected("'" + host + "' is not a valid host name or *.parent wildcard");
        try (Connection connection = openDatabase())
        {
            List<Row> rows = query(connection, name);
            String wildcard = name.startsWith("*.") ? null : HostNames.wildcardFor(name);
            if (rows.isEmpty() && wildcard != null)
            {
                rows = query(connection, wildcard);
                if (!rows.isEmpty())
                    out().println(name + " has no certificate of its own; it is served by " + wildcard + ":");
            }
            if (rows.isEmpty())
                throw CliException.rejected("no certificate stored for " + name + (wildcard == null ? "" : " (nor " + wildcard + ")"));
            Instant now = Instant.now();
            for (Row row : rows)
            {
                out().println();
                print(row, now);
            }
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("reading " + name, x);
        }
    }

    private List<Row> query(Connection connection, String name) throws SQLException
    {
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(
            "SELECT host, key_type, chain_pem, key_encoding, version, updated_at FROM " + settings().schema() + ".certificate WHERE host = ? ORDER BY key_type"))
        {
            statement.setString(1, name);
            try (ResultSet rs = statement.executeQuery())
            {
                while (rs.next())
                {
                    rows.add(new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5), rs.getTimestamp(6)));
                }
            }
        }
        return rows;
    }

    private void print(Row row, Instant now)
    {
        line("host", row.name());
        line("key type", row.keyType());
        List<X509Certificate> chain;
        try
        {
            chain = Pem.readCertificates(row.chainPem());
        }
        catch (InvalidCredentialException x)
        {
            line("problem", "stored chain does not parse: " + x.getMessage());
            line("version", String.valueOf(row.version()));
            return;
        }
        X509Certificate leaf = leaf(chain);
        line("public key", describe(leaf.getPublicKey()));
        line("subject", leaf.getSubjectX500Principal().getName());
        try
        {
            line("SANs", String.join(", ", CertificateLoader.dnsNames(leaf)));
        }
        catch (InvalidCredentialException x)
        {
            line("SANs", "(" + x.getMessage() + ")");
        }
        line("issuer", leaf.getIssuerX500Principal().getName());
        line("serial", leaf.getSerialNumber().toString(16));
        line("not before", leaf.getNotBefore().toInstant().toString());
        Instant notAfter = leaf.getNotAfter().toInstant();
        long days = Duration.between(now, notAfter).toDays();
        line("not after", notAfter + (notAfter.isBefore(now) ? "  EXPIRED" : now.isBefore(leaf.getNotBefore().toInstant()) ? "  NOT YET VALID" : "  (" + days + " days left)"));
        line("fingerprint", "SHA-256 " + Pem.fingerprint(leaf));
        line("chain", chain.size() + " certificate" + (chain.size() == 1 ? "" : "s"));
        line("key encoding", row.keyEncoding());
        line("version", String.valueOf(row.version()));
        line("updated at", row.updatedAt() == null ? "?" : row.updatedAt().toInstant().toString());
    }

    private void line(String label, String value)
    {
        out().println(String.format("%-13s %s", label, value));
    }

    /** @return the certificate that issued none of the others */
    private static X509Certificate leaf(List<X509Certificate> chain)
    {
        for (X509Certificate candidate : chain)
        {
            boolean issuer = false;
            for (X509Certificate other : chain)
            {
                if (other != candidate && other.getIssuerX500Principal().equals(candidate.getSubjectX500Principal()))
                    issuer = true;
            }
            if (!issuer)
                return candidate;
        }
        return chain.get(0);
    }

    private static String describe(PublicKey key)
    {
        if (key instanceof ECPublicKey ec)
            return "EC " + ec.getParams().getCurve().getField().getFieldSize() + " bits";
        if (key instanceof RSAPublicKey rsa)
            return "RSA " + rsa.getModulus().bitLength() + " bits";
        return key.getAlgorithm();
    }
}
