package dev.dynsni.admin;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "import",
    customSynopsis = "dynsni import [OPTIONS] --cert=CHAIN.pem [--key=KEY.pem] [--host=NAME]...",
    description = {
        "Import one certificate chain and its private key, validated first, written atomically",
        "(one upsert per host and key type); running nodes serve it within about a second."
    })
class ImportCommand extends StoreCommand
{
    static final String IMPORTING_ANYWAY = "importing anyway: running nodes evict Redis through the change feed";

    @Option(names = "--cert", required = true, paramLabel = "CHAIN.pem", description = "Certificate chain in PEM, any order (may also hold the key).")
    Path cert;

    @Option(names = "--key", paramLabel = "KEY.pem", description = "Private key in PEM (PKCS#8, PKCS#1 or SEC1); default: the key in --cert.")
    Path key;

    @Option(names = "--host", paramLabel = "NAME", description = "Store under this host or *.parent wildcard (repeatable); default: the leaf's DNS subjectAltNames.")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--allow-expired", description = "Accept a certificate outside its validity period.")
    boolean allowExpired;

    @Override
    public Integer call()
    {
        ParsedCertificate certificate;
        try
        {
            String chainPem = read(cert);
            String keyPem = key == null ? chainPem : read(key);
            certificate = CertificateLoader.parse(cert.toString(), chainPem, keyPem, hosts, allowExpired, System.currentTimeMillis());
        }
        catch (InvalidCredentialException x)
        {
            throw CliException.rejected(cert + (key == null ? "" : " + " + key) + ": " + x.getMessage());
        }
        Settings settings = settings();
        MasterKeys keys = masterKeys();
        try (Connection connection = openDatabase();
             Importer importer = new Importer(connection, settings.schema(), openRedisOrWarn(IMPORTING_ANYWAY), keys, err()))
        {
            Importer.Written written = importer.write(List.of(certificate));
            for (String name : certificate.names())
            {
                int index = written.names().indexOf(name);
                out().println((index < 0 ? "unchanged " : "imported ") + name + " key=" + certificate.keyType() +
                    " notAfter=" + certificate.notAfter() + " fingerprint=" + certificate.fingerprint() +
                    (index < 0 ? "" : " version=" + written.versions().get(index)));
            }
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("importing " + cert, x);
        }
    }

    private static String read(Path file)
    {
        try
        {
            return CertificateLoader.readFile(file);
        }
        catch (InvalidCredentialException x)
        {
            throw CliException.rejected(file + ": " + x.getMessage());
        }
    }
}
