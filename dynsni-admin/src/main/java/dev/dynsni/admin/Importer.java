package dev.dynsni.admin;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.store.CertificateWriter;

/**
 * Writes validated certificates through core's {@link CertificateWriter} (the write path ACME
 * issuance shares: one transaction per batch, unchanged rows left alone, corrupt ones repaired). The
 * table's triggers stamp versions and NOTIFY the nodes; then the Redis entries of the changed names are
 * fenced and dropped directly, so that a value cached before the import is gone even when no node
 * is running. A Redis failure is reported once and does not fail the import: nodes invalidate Redis
 * on the change feed too. Not thread-safe: one importer per connection; closing it closes its Redis tier.
 */
final class Importer implements AutoCloseable
{
    private final CertificateWriter writer;
    private final PrintWriter err;
    private Redis redis;

    /** The outcome of one batch: rows written, the names changed with their versions, and how many unchanged rows were repaired. */
    record Written(int rows, List<String> names, List<Long> versions, int repaired)
    {
    }

    /**
     * @param redis      the Redis tier, or null for none; the importer closes it when it fails
     * @param masterKeys when not null, private keys are written encrypted with its current key
     */
    Importer(Connection connection, String schema, Redis redis, MasterKeys masterKeys, PrintWriter err)
    {
        this.writer = new CertificateWriter(connection, schema, masterKeys);
        this.redis = redis;
        this.err = err;
    }

    /**
     * Writes all certificates of the batch in one transaction ({@link CertificateWriter}), then
     * drops the Redis entries of the changed names.
     *
     * @return the stored names whose rows changed, with their new versions
     */
    Written write(List<ParsedCertificate> batch) throws SQLException
    {
        List<CertificateWriter.Entry> entries = new ArrayList<>(batch.size());
        for (ParsedCertificate certificate : batch)
        {
            entries.add(new CertificateWriter.Entry(certificate.names(), certificate.keyType(), certificate.chainPem(), certificate.keyPem(),
                certificate.notBefore(), certificate.notAfter(), certificate.fingerprint()));
        }
        CertificateWriter.Written written = writer.write(entries);
        invalidateRedis(written.names(), written.versions());
        return new Written(written.rows(), written.names(), written.versions(), written.repaired());
    }

    private void invalidateRedis(List<String> names, List<Long> versions)
    {
        if (redis == null || names.isEmpty())
            return;
        try
        {
            redis.invalidate(names, versions);
        }
        catch (CliException x)
        {
            err.println("warning: " + x.getMessage() + "; running nodes still evict through the change feed, Redis entries of stopped nodes expire with their TTL");
            err.flush();
            redis.close();
            redis = null;
        }
    }

    /** Closes the Redis tier, if any; the connection stays the caller's. */
    @Override
    public void close()
    {
        if (redis != null)
            redis.close();
        redis = null;
    }
}
