package dev.dynsni.core;

import java.util.regex.Pattern;

/** Keeps passwords out of logs, JMX and messages. */
public final class Secrets
{
    private static final Pattern USER_INFO = Pattern.compile("//[^@/?#]*@");
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)((?:password|sslpassword|pass)=)[^&;]*");

    private Secrets()
    {
    }

    /**
     * @return the URL with any user-info credentials and password parameters replaced by {@code ***}
     */
    public static String redactUrl(String url)
    {
        if (url == null)
            return null;
        String redacted = USER_INFO.matcher(url).replaceAll("//***@");
        return PASSWORD_PARAMETER.matcher(redacted).replaceAll("$1***");
    }
}
