package dev.dynsni.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import dev.dynsni.core.CredentialParser;
import dev.dynsni.core.HostNames;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.Pem;

/**
 * Reads and validates a certificate chain and its private key before anything is written: the PEM
 * parses, the key matches a certificate of the chain (that one is the leaf), the chain is put
 * leaf-first, the leaf is inside its validity period, and the leaf covers every stored name.
 * Stateless and thread-safe; messages never contain key material.
 */
final class CertificateLoader
{
    /** Larger files are not certificates; refusing them keeps a wrong directory from eating memory. */
    static final long MAX_FILE_BYTES = 1 << 20;

    private CertificateLoader()
    {
    }

    static String readFile(Path file) throws InvalidCredentialException
    {
        try
        {
            if (Files.size(file) > MAX_FILE_BYTES)
                throw new InvalidCredentialException("file is larger than " + MAX_FILE_BYTES + " bytes: not a certificate or key");
            return Files.readString(file, StandardCharsets.US_ASCII);
        }
        catch (NoSuchFileException x)
        {
            throw new InvalidCredentialException("no such file");
        }
        catch (IOException x)
        {
            throw new InvalidCredentialException("cannot read: " + x.getMessage());
        }
    }

    /**
     * @param chainPem       the certificates, any order
     * @param keyPem         the private key (may be the same text as {@code chainPem} for a combined file)
     * @param requestedNames the names to store it under, or empty for the leaf's DNS SANs
     * @param allowExpired   accept a leaf outside its validity period
     * @param nowMillis      the time the validity is checked against
     */
    static ParsedCertificate parse(String source, String chainPem, String keyPem, Collection<String> requestedNames,
                                   boolean allowExpired, long nowMillis) throws InvalidCredentialException
    {
        PrivateKey key = Pem.readPrivateKey(keyPem);
        String keyType = Pem.keyType(key);
        List<X509Certificate> certificates = Pem.readCertificates(certificateBlocks(chainPem));
        X509Certificate leaf = null;
        for (X509Certificate certificate : certificates)
        {
            if (Pem.matches(key, certificate.getPublicKey()))
            {
                leaf = certificate;
                break;
            }
        }
        if (leaf == null)
            throw new InvalidCredentialException("private key does not match " + (certificates.size() == 1 ? "the certificate" : "any of the " + certificates.size() + " certificates"));
        if (!allowExpired)
        {
            if (nowMillis > leaf.getNotAfter().getTime())
                throw new InvalidCredentialException("certificate expired at " + leaf.getNotAfter().toInstant() + " (use --allow-expired to store it anyway)");
            if (nowMillis < leaf.getNotBefore().getTime())
                throw new InvalidCredentialException("certificate is not valid before " + leaf.getNotBefore().toInstant() + " (use --allow-expired to store it anyway)");
        }
        List<String> sans = dnsNames(leaf);
        List<String> names = new ArrayList<>();
        if (requestedNames.isEmpty())
        {
            if (sans.isEmpty())
                throw new InvalidCredentialException("certificate has no DNS subjectAltName: name the hosts with --host");
            for (String san : sans)
            {
                if (!HostNames.isValidStoredName(san))
                    throw new InvalidCredentialException("subjectAltName '" + san + "' is not a valid host name");
                if (!names.contains(san))
                    names.add(san);
            }
        }
        else
        {
            for (String requested : requestedNames)
            {
                String name = normalizeName(requested);
                if (name == null)
                    throw new InvalidCredentialException("host '" + requested + "' is not a valid host name or *.parent wildcard");
                if (!covers(sans, name))
                    throw new InvalidCredentialException("certificate does not cover host " + name + " (its DNS names: " + (sans.isEmpty() ? "none" : String.join(", ", sans)) + ")");
                if (!names.contains(name))
                    names.add(name);
            }
        }
        X509Certificate[] chain = CredentialParser.orderChain(leaf, certificates);
        return new ParsedCertificate(source, List.copyOf(names), keyType, pem(chain), Pem.encode("PRIVATE KEY", key.getEncoded()), leaf, Pem.fingerprint(leaf));
    }

    /**
     * @return only the {@code CERTIFICATE} blocks of a PEM text, so that a combined file (chain and key)
     *     can be read as a chain; the text itself when it has no such block (the parser then says why)
     */
    static String certificateBlocks(String pem)
    {
        String begin = "-----BEGIN CERTIFICATE-----";
        String end = "-----END CERTIFICATE-----";
        int from = pem.indexOf(begin);
        if (from < 0)
            return pem;
        if (pem.indexOf("-----BEGIN ", from + begin.length()) < 0 && pem.lastIndexOf("-----BEGIN ", from - 1) < 0)
            return pem;
        StringBuilder blocks = new StringBuilder(pem.length());
        while (from >= 0)
        {
            int to = pem.indexOf(end, from);
            if (to < 0)
            {
                blocks.append(pem, from, pem.length());
                break;
            }
            blocks.append(pem, from, to + end.length()).append('\n');
            from = pem.indexOf(begin, to);
        }
        return blocks.toString();
    }

    /** @return a stored name (host or {@code *.parent}), lower-case, one trailing dot stripped; null when invalid */
    static String normalizeName(String raw)
    {
        if (raw == null)
            return null;
        String name = raw.trim().toLowerCase(Locale.ROOT);
        if (name.endsWith("."))
            name = name.substring(0, name.length() - 1);
        if (name.startsWith("*."))
            return HostNames.isValidStoredName(name) ? name : null;
        return HostNames.normalize(name);
    }

    /** @return whether a certificate with these DNS names is valid for the stored name */
    static boolean covers(List<String> sans, String name)
    {
        for (String san : sans)
        {
            if (san.equals(name))
                return true;
            if (!name.startsWith("*.") && san.startsWith("*."))
            {
                int dot = name.indexOf('.');
                if (dot > 0 && name.substring(dot).equals(san.substring(1)))
                    return true;
            }
        }
        return false;
    }

    /** @return the leaf's DNS subjectAltNames, lower-case, trailing dot stripped */
    static List<String> dnsNames(X509Certificate certificate) throws InvalidCredentialException
    {
        List<String> names = new ArrayList<>();
        try
        {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans == null)
                return names;
            for (List<?> san : sans)
            {
                if (san.size() >= 2 && Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String dns)
                {
                    String name = dns.toLowerCase(Locale.ROOT);
                    if (name.endsWith("."))
                        name = name.substring(0, name.length() - 1);
                    names.add(name);
                }
            }
            return names;
        }
        catch (CertificateParsingException x)
        {
            throw new InvalidCredentialException("subjectAltName extension does not parse: " + x.getMessage());
        }
    }

    static String pem(X509Certificate... chain)
    {
        StringBuilder out = new StringBuilder(chain.length * 900);
        for (X509Certificate certificate : chain)
        {
            out.append(Pem.encode(certificate));
        }
        return out.toString();
    }
}
