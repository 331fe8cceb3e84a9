package dev.dynsni.core;

/** Keeps passwords out of logs, JMX and messages. */
public final class Secrets
{
    private Secrets()
    {
    }

    /**
     * @return the URL with any user-info credentials and password parameters replaced by {@code ***}
     *     ({@link StoreUrls#mask(String)})
     */
    public static String redactUrl(String url)
    {
        return StoreUrls.mask(url);
    }
}
