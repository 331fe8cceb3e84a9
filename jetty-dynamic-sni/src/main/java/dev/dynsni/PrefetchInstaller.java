package dev.dynsni;

import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.Setting;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a {@link PrefetchingSslConnectionFactory} in place of every stock {@link SslConnectionFactory}
 * that uses the given {@link DynamicSniSslContextFactory}, keeping its next protocol, so that the
 * stock {@code ssl}, {@code https} and {@code http2} modules need no change.
 *
 * <p>It is a bean of the {@link Server}: the server starts its beans before its connectors, so the
 * swap happens on connectors that are configured but not yet started, whatever order the Jetty XML
 * files ran in. With {@code enabled=false} it does nothing and handshakes use the blocking,
 * time-bounded lookup in the key manager.</p>
 */
@ManagedObject("Installs the SNI-prefetching TLS connection factory")
public class PrefetchInstaller extends AbstractLifeCycle
{
    private static final Logger LOG = LoggerFactory.getLogger(PrefetchInstaller.class);

    private final Server server;
    private final DynamicSniSslContextFactory sslContextFactory;
    private boolean enabled = Setting.PREFETCH.defaultBoolean();
    private int maxClientHelloBytes = -1;
    private long handshakeTimeoutMillis = -1;
    private int maxPendingHandshakes = -1;
    private long maxBufferedBytes = -1;
    private long prefetchTimeoutMillis = -1;
    private final List<String> installedOn = new ArrayList<>();

    public PrefetchInstaller(Server server, DynamicSniSslContextFactory sslContextFactory)
    {
        this.server = server;
        this.sslContextFactory = sslContextFactory;
    }

    @ManagedAttribute("Whether certificates are resolved before the TLS handshake")
    public boolean isEnabled()
    {
        return enabled;
    }

    public void setEnabled(boolean enabled)
    {
        this.enabled = enabled;
    }

    public void setMaxClientHelloBytes(int maxClientHelloBytes)
    {
        this.maxClientHelloBytes = maxClientHelloBytes;
    }

    public void setHandshakeTimeoutMillis(long handshakeTimeoutMillis)
    {
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    public void setMaxPendingHandshakes(int maxPendingHandshakes)
    {
        this.maxPendingHandshakes = maxPendingHandshakes;
    }

    public void setMaxBufferedBytes(long maxBufferedBytes)
    {
        this.maxBufferedBytes = maxBufferedBytes;
    }

    public void setPrefetchTimeoutMillis(long prefetchTimeoutMillis)
    {
        this.prefetchTimeoutMillis = prefetchTimeoutMillis;
    }

    @ManagedAttribute("Connectors whose TLS factory prefetches")
    public List<String> getInstalledOn()
    {
        return List.copyOf(installedOn);
    }

    @Override
    protected void doStart() throws Exception
    {
        installedOn.clear();
        if (!enabled && sslContextFactory.isAcmeConfigured() && "tls-alpn-01".equals(sslContextFactory.getAcmeChallengeType()))
            throw new IllegalStateException(Setting.ACME_CHALLENGE_TYPE.property() + "=tls-alpn-01 needs " + Setting.PREFETCH.property() +
                "=true: tls-alpn-01 validations are answered by the SNI prefetch, which alone reads the ClientHello's ALPN before TLS starts. " +
                "Turn the prefetch on, or set " + Setting.ACME_CHALLENGE_TYPE.property() + "=http-01");
        if (!enabled)
        {
            LOG.info("SNI prefetch disabled (jetty.dynamicSni.prefetch=false): lookups block a Jetty thread for up to {} ms", sslContextFactory.getLookupTimeoutMillis());
            return;
        }
        for (Connector connector : server.getConnectors())
        {
            if (!(connector instanceof AbstractConnector abstractConnector))
                continue;
            // Replace in place: a detector in front (PROXY protocol) hands over to the factory that
            // follows it in the connector's order, so the order must not change.
            List<ConnectionFactory> factories = new ArrayList<>(abstractConnector.getConnectionFactories());
            boolean swapped = false;
            for (int i = 0; i < factories.size(); i++)
            {
                if (factories.get(i) instanceof SslConnectionFactory ssl && !(ssl instanceof PrefetchingSslConnectionFactory) && ssl.getSslContextFactory() == sslContextFactory)
                {
                    PrefetchingSslConnectionFactory prefetching = new PrefetchingSslConnectionFactory(sslContextFactory, ssl.getNextProtocol());
                    prefetching.setDirectBuffersForEncryption(ssl.isDirectBuffersForEncryption());
                    prefetching.setDirectBuffersForDecryption(ssl.isDirectBuffersForDecryption());
                    if (maxClientHelloBytes > 0)
                        prefetching.setMaxClientHelloBytes(maxClientHelloBytes);
                    if (handshakeTimeoutMillis > 0)
                        prefetching.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
                    if (maxPendingHandshakes > 0)
                        prefetching.setMaxPendingHandshakes(maxPendingHandshakes);
                    if (maxBufferedBytes > 0)
                        prefetching.setMaxBufferedBytes(maxBufferedBytes);
                    if (prefetchTimeoutMillis > 0)
                        prefetching.setPrefetchTimeoutMillis(prefetchTimeoutMillis);
                    factories.set(i, prefetching);
                    swapped = true;
                    LOG.info("SNI prefetch installed connector={} next={}", connector.getName(), ssl.getNextProtocol());
                }
            }
            if (swapped)
            {
                String defaultProtocol = abstractConnector.getDefaultProtocol();
                abstractConnector.setConnectionFactories(factories);
                abstractConnector.setDefaultProtocol(defaultProtocol);
                installedOn.add(connector.getName() == null ? connector.toString() : connector.getName());
            }
        }
        super.doStart();
    }
}
