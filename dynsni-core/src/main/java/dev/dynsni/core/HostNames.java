package dev.dynsni.core;

import java.net.IDN;
import java.util.Locale;

/**
 * Normalises and validates host names taken from SNI: lower-case ({@link Locale#ROOT}), one trailing
 * dot stripped, then checked as an RFC 1035 DNS name made of LDH labels (IDNs arrive as A-labels).
 * IP literals and anything else are rejected, so an invalid name never reaches a store.
 */
public final class HostNames
{
    /** RFC 1035: 255 octets on the wire, so 253 characters without the trailing dot. */
    public static final int MAX_NAME_LENGTH = 253;
    public static final int MAX_LABEL_LENGTH = 63;

    private HostNames()
    {
    }

    /**
     * @param raw a host name as the client sent it
     * @return the normalised name, or {@code null} when the name is not a valid DNS host name
     */
    public static String normalize(String raw)
    {
        if (raw == null)
            return null;
        int length = raw.length();
        if (length > 0 && raw.charAt(length - 1) == '.')
            length--;
        if (length == 0 || length > MAX_NAME_LENGTH)
            return null;

        char[] chars = new char[length];
        int labelStart = 0;
        boolean lastLabelNumeric = true;
        for (int i = 0; i <= length; i++)
        {
            if (i == length || raw.charAt(i) == '.')
            {
                int labelLength = i - labelStart;
                if (labelLength == 0 || labelLength > MAX_LABEL_LENGTH)
                    return null;
                if (chars[labelStart] == '-' || chars[i - 1] == '-')
                    return null;
                if (labelLength >= 4 && chars[labelStart + 2] == '-' && chars[labelStart + 3] == '-' && !isValidALabel(chars, labelStart, labelLength))
                    return null;
                if (i < length)
                {
                    chars[i] = '.';
                    labelStart = i + 1;
                    lastLabelNumeric = true;
                }
                continue;
            }
            char c = raw.charAt(i);
            if (c >= 'A' && c <= 'Z')
                c = (char)(c + ('a' - 'A'));
            if (c >= 'a' && c <= 'z' || c == '-')
                lastLabelNumeric = false;
            else if (c < '0' || c > '9')
                return null;
            chars[i] = c;
        }
        // A name whose last label is all digits is an IPv4 literal (or not a host name at all).
        if (lastLabelNumeric)
            return null;
        return new String(chars);
    }

    /**
     * Labels of the form {@code ??--*} are reserved (RFC 5890); only {@code xn--} A-labels that decode
     * as Punycode are accepted.
     */
    private static boolean isValidALabel(char[] chars, int start, int length)
    {
        if (chars[start] != 'x' || chars[start + 1] != 'n')
            return false;
        String label = new String(chars, start, length);
        try
        {
            String unicode = IDN.toUnicode(label, IDN.USE_STD3_ASCII_RULES);
            // toUnicode returns its input unchanged when the label does not decode.
            return !unicode.equals(label) && IDN.toASCII(unicode, IDN.USE_STD3_ASCII_RULES).equalsIgnoreCase(label);
        }
        catch (IllegalArgumentException x)
        {
            return false;
        }
    }

    /**
     * @param host a normalised host name
     * @return the one-label wildcard that would cover it ({@code *.parent}), or {@code null} for a
     *     single-label host
     */
    public static String wildcardFor(String host)
    {
        int dot = host.indexOf('.');
        if (dot < 0 || dot == host.length() - 1)
            return null;
        return "*" + host.substring(dot);
    }

    /**
     * @param name a stored name, exact or wildcard
     * @return whether the name is a valid stored name: a valid host, or {@code *.} followed by a valid
     *     host of at least two labels
     */
    public static boolean isValidStoredName(String name)
    {
        if (name == null)
            return false;
        if (name.startsWith("*."))
        {
            String parent = name.substring(2);
            return parent.indexOf('.') > 0 && parent.equals(normalize(parent));
        }
        return name.equals(normalize(name));
    }
}
