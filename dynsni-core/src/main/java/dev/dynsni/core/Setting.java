package dev.dynsni.core;

import java.util.List;
import java.util.Locale;

/**
 * Every setting of the module, defined once: its property name (under {@link #PREFIX}), the bean
 * property Jetty XML sets, its kind, its default and its documentation.
 *
 * <p>Everything else refers to these definitions or is checked against them by a test that fails
 * on any difference: the defaults of {@code DynamicSniSslContextFactory} and the prefetch, the
 * module's XML and {@code [ini-template]}, {@code docs/module.md}, and the admin tool's reading of
 * a Jetty base. The documentation text is the {@code ##} comment of the ini-template, verbatim.</p>
 */
public enum Setting
{
    JDBC_URL("jdbc.url", Owner.FACTORY, "jdbcUrl", Kind.STRING, "", "DYNSNI_JDBC_URL",
        "PostgreSQL JDBC URL (required), e.g. jdbc:postgresql://127.0.0.1:5432/hosting"),
    JDBC_USER("jdbc.user", Owner.FACTORY, "jdbcUser", Kind.STRING, "", "DYNSNI_JDBC_USER",
        "PostgreSQL user."),
    JDBC_PASSWORD("jdbc.password", Owner.FACTORY, "jdbcPassword", Kind.SECRET, "", "DYNSNI_JDBC_PASSWORD",
        "PostgreSQL password (or the environment variable DYNSNI_JDBC_PASSWORD, or jdbc.passwordFile)."),
    JDBC_PASSWORD_FILE("jdbc.passwordFile", Owner.FACTORY, "jdbcPasswordFile", Kind.FILE, "", null,
        "A file holding the PostgreSQL password, used when the password is not set (absolute or relative to $JETTY_BASE)."),
    JDBC_SCHEMA("jdbc.schema", Owner.FACTORY, "jdbcSchema", Kind.STRING, "dynsni", "DYNSNI_JDBC_SCHEMA",
        "Schema of the certificate table; created (and migrated) at start when missing."),
    JDBC_POOL_SIZE("jdbc.poolSize", Owner.FACTORY, "jdbcPoolSize", Kind.INT, "4", null,
        "Maximum PostgreSQL connections of this node."),
    JDBC_TIMEOUT_MILLIS("jdbc.timeoutMillis", Owner.FACTORY, "jdbcTimeoutMillis", Kind.LONG, "2000", null,
        "PostgreSQL connect and query timeout, in milliseconds."),

    REDIS_ADDRESS("redis.address", Owner.FACTORY, "redisAddress", Kind.STRING, "", "DYNSNI_REDIS_URL",
        "Redis address, redis://host:port or rediss://host:port (TLS); with redis.mode=cluster a comma-separated list of seed nodes, with redis.mode=sentinel of the sentinels. Empty: no Redis tier."),
    REDIS_MODE("redis.mode", Owner.FACTORY, "redisMode", Kind.CHOICE, "single", null,
        "How Redis runs: single (one server, or a replicated one behind one address), cluster (Redis Cluster: redis.address lists seed nodes) or sentinel (Redis Sentinel: redis.address lists the sentinels, redis.sentinelMaster names the master).",
        "single", "cluster", "sentinel"),
    REDIS_SENTINEL_MASTER("redis.sentinelMaster", Owner.FACTORY, "redisSentinelMaster", Kind.STRING, "", null,
        "With redis.mode=sentinel: the name under which the sentinels monitor the master (sentinel monitor NAME ...)."),
    REDIS_USER("redis.user", Owner.FACTORY, "redisUser", Kind.STRING, "", "DYNSNI_REDIS_USER",
        "Redis user (ACL), if any."),
    REDIS_PASSWORD("redis.password", Owner.FACTORY, "redisPassword", Kind.SECRET, "", "DYNSNI_REDIS_PASSWORD",
        "Redis password, if any (or the environment variable DYNSNI_REDIS_PASSWORD, or redis.passwordFile)."),
    REDIS_PASSWORD_FILE("redis.passwordFile", Owner.FACTORY, "redisPasswordFile", Kind.FILE, "", null,
        "A file holding the Redis password, used when the password is not set."),
    REDIS_CA_FILE("redis.caFile", Owner.FACTORY, "redisCaFile", Kind.FILE, "", null,
        "PEM file of the CA certificates trusted for a rediss:// address (default: the JDK's)."),
    REDIS_KEY_PREFIX("redis.keyPrefix", Owner.FACTORY, "redisKeyPrefix", Kind.STRING, "dynsni:", "DYNSNI_REDIS_KEY_PREFIX",
        "Prefix of every Redis key this module writes."),
    REDIS_TTL_SECONDS("redis.ttlSeconds", Owner.FACTORY, "redisTtlSeconds", Kind.LONG, "300", null,
        "How long a certificate stays in Redis, in seconds."),
    REDIS_NEGATIVE_TTL_SECONDS("redis.negativeTtlSeconds", Owner.FACTORY, "redisNegativeTtlSeconds", Kind.LONG, "30", null,
        "How long Redis remembers that a host has no certificate, in seconds."),
    REDIS_MAX_NEGATIVE_ENTRIES("redis.maxNegativeEntries", Owner.FACTORY, "redisMaxNegativeEntries", Kind.LONG, "10000", 0, null,
        "Most \"no certificate\" entries this node writes to Redis per redis.negativeTtlSeconds (so at most twice as many of its own live at once); beyond it an unknown name is remembered in process only. 0: none written."),
    REDIS_TIMEOUT_MILLIS("redis.timeoutMillis", Owner.FACTORY, "redisTimeoutMillis", Kind.LONG, "500", null,
        "Redis command timeout, in milliseconds."),
    REDIS_POOL_SIZE("redis.poolSize", Owner.FACTORY, "redisPoolSize", Kind.INT, "32", null,
        "Most Redis connections of this node (how many cold lookups can overlap)."),

    CACHE_MAX_ENTRIES("cache.maxEntries", Owner.FACTORY, "cacheMaxEntries", Kind.LONG, "10000", null,
        "Maximum hosts held in the in-process cache of parsed certificates."),
    CACHE_MAX_BYTES("cache.maxBytes", Owner.FACTORY, "cacheMaxBytes", Kind.LONG, "67108864", null,
        "Most heap the in-process cache of parsed certificates may hold, in bytes (67108864 = 64 MiB), by its estimate of what each host retains; it also stays within cache.maxEntries, each host counting for at least maxBytes / maxEntries. Size it as the hosts to keep in memory times the bytes per host (docs/module.md, Sizing the in-process cache; JMX l1EstimatedBytes / l1Size)."),
    CACHE_REFRESH_SECONDS("cache.refreshSeconds", Owner.FACTORY, "cacheRefreshSeconds", Kind.LONG, "300", null,
        "Seconds after which a cached certificate is reloaded in the background (served meanwhile)."),
    NEGATIVE_CACHE_MAX_ENTRIES("negativeCache.maxEntries", Owner.FACTORY, "negativeCacheMaxEntries", Kind.LONG, "10000", null,
        "Maximum unknown hosts remembered in process."),
    NEGATIVE_CACHE_TTL_SECONDS("negativeCache.ttlSeconds", Owner.FACTORY, "negativeCacheTtlSeconds", Kind.LONG, "10", null,
        "Seconds an unknown host is remembered in process."),
    LOOKUP_TIMEOUT_MILLIS("lookupTimeoutMillis", Owner.FACTORY, "lookupTimeoutMillis", Kind.LONG, "3000", null,
        "Longest a handshake waits for a certificate lookup, in milliseconds."),

    PREFETCH("prefetch", Owner.PREFETCH, "enabled", Kind.BOOLEAN, "true", null,
        "Resolve the certificate before the TLS handshake starts: the connection reads the ClientHello, looks its SNI host up asynchronously and only then hands the bytes to TLS, so no Jetty thread ever waits on Redis or PostgreSQL. false: the key manager waits (up to lookupTimeoutMillis)."),
    PREFETCH_HANDSHAKE_TIMEOUT_MILLIS("prefetch.handshakeTimeoutMillis", Owner.PREFETCH, "handshakeTimeoutMillis", Kind.LONG, "10000", null,
        "Longest time from a connection's opening to the end of its TLS handshake, in milliseconds, whatever the client sends and however slowly; the connection is closed when it runs out."),
    PREFETCH_MAX_CLIENT_HELLO_BYTES("prefetch.maxClientHelloBytes", Owner.PREFETCH, "maxClientHelloBytes", Kind.INT, "65536", 64, null,
        "Most bytes one connection buffers for its ClientHello, record headers included (the largest ClientHello the JDK accepts takes 32787 in full records); a longer one is handed to TLS without a prefetch."),
    PREFETCH_MAX_PENDING_HANDSHAKES("prefetch.maxPendingHandshakes", Owner.PREFETCH, "maxPendingHandshakes", Kind.INT, "10000", null,
        "Most connections of a connector between their opening and the end of their TLS handshake; a connection beyond it is closed at once."),
    PREFETCH_MAX_BUFFERED_BYTES("prefetch.maxBufferedBytes", Owner.PREFETCH, "maxBufferedBytes", Kind.LONG, "33554432", 1024, null,
        "Most bytes the connections of a connector buffer before TLS starts (33554432 = 32 MiB); when they are reached, a new connection is closed at once and a connection needing more is closed."),
    PREFETCH_TIMEOUT_MILLIS("prefetch.timeoutMillis", Owner.PREFETCH, "prefetchTimeoutMillis", Kind.LONG, "0", 0, null,
        "Longest a connection waits for its lookup before the handshake goes on under the unknown-host policy, in milliseconds; 0: lookupTimeoutMillis."),

    DEFAULT_CERTIFICATE("default.certificate", Owner.FACTORY, "defaultCertificatePath", Kind.FILE, "", null,
        "Default certificate chain (PEM file, absolute or relative to $JETTY_BASE), served to clients without SNI and, with unknownHostPolicy=default, to hosts without a certificate."),
    DEFAULT_KEY("default.key", Owner.FACTORY, "defaultKeyPath", Kind.FILE, "", null,
        "Private key of the default certificate (PEM file, absolute or relative to $JETTY_BASE)."),
    UNKNOWN_HOST_POLICY("unknownHostPolicy", Owner.FACTORY, "unknownHostPolicy", Kind.CHOICE, "default", null,
        "What a handshake for a host without a certificate gets: default (the default certificate when one is configured, else a handshake failure) or reject (a handshake failure).",
        "default", "reject"),
    HOSTED_NAMES("hostedNames", Owner.FACTORY, "hostedNames", Kind.CHOICE, "stored", null,
        "Which names this server hosts: stored (every name with a stored certificate) or deployed (only names claimed by the virtualHosts of a running context; any other name gets the unknown-host policy, even with a stored certificate).",
        "stored", "deployed"),

    MASTER_KEY_FILE("masterKeyFile", Owner.FACTORY, "masterKeyFile", Kind.FILE, "", "DYNSNI_MASTER_KEY_FILE",
        "A file holding the 256-bit master key that encrypts private keys at rest in PostgreSQL and Redis (32 raw bytes, 64 hex digits or base64; chmod 600). Empty: keys stored as plain PEM."),
    PREVIOUS_MASTER_KEY_FILES("previousMasterKeyFiles", Owner.FACTORY, "previousMasterKeyFiles", Kind.FILES, "", null,
        "Comma-separated older master key files, still read while \"dynsni rotate-master-key\" runs."),
    REBUILD_CONTEXT_ON_CHANGE("rebuildContextOnChange", Owner.FACTORY, "rebuildContextOnChange", Kind.BOOLEAN, "false", null,
        "Whether every certificate change rebuilds the SSL context (debounced), so that no TLS session of a removed or replaced certificate can be resumed; costs full handshakes after each change."),
    REBUILD_DELAY_MILLIS("rebuildDelayMillis", Owner.FACTORY, "rebuildDelayMillis", Kind.LONG, "250", null,
        "Debounce delay of those rebuilds, in milliseconds."),

    ACME_DIRECTORY_URL("acme.directoryUrl", Owner.FACTORY, "acmeDirectoryUrl", Kind.STRING, "", "DYNSNI_ACME_DIRECTORY_URL",
        "ACME directory URL of the CA that issues certificates for permitted names without one, e.g. https://acme-v02.api.letsencrypt.org/directory (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory). Empty: ACME off."),
    ACME_EMAIL("acme.email", Owner.FACTORY, "acmeEmail", Kind.STRING, "", null,
        "Contact e-mail of the ACME account (the CA writes about expiring certificates and policy changes); empty: none."),
    ACME_CA_FILE("acme.caFile", Owner.FACTORY, "acmeCaFile", Kind.FILE, "", null,
        "PEM file of the CA certificates trusted for the ACME directory's HTTPS, for private CAs such as Pebble (default: the JDK's)."),
    ACME_ASK_URL("acme.askUrl", Owner.FACTORY, "acmeAskUrl", Kind.STRING, "", null,
        "Permission endpoint asked before an order for a name not allowed by the table (dynsni allow): GET URL?domain=NAME, a 2xx answer allows (as Caddy's on-demand ask). Empty: the table alone decides."),
    ACME_CHALLENGE_TYPE("acme.challengeType", Owner.FACTORY, "acmeChallengeType", Kind.CHOICE, "tls-alpn-01", null,
        "The ACME challenge answered: tls-alpn-01 (on the TLS port, needs the prefetch) or http-01 (on the plain HTTP connector, for sites behind proxies that terminate TLS).",
        "tls-alpn-01", "http-01"),
    ACME_KEY_TYPE("acme.keyType", Owner.FACTORY, "acmeKeyType", Kind.CHOICE, "ec", null,
        "Key of issued certificates: ec (P-256) or rsa (2048 bits).",
        "ec", "rsa"),
    ACME_WAIT_MILLIS("acme.waitMillis", Owner.FACTORY, "acmeWaitMillis", Kind.LONG, "8000", 0, null,
        "Longest the first connection of a permitted name without a certificate waits for its new certificate (without holding a thread), in milliseconds, before it gets the unknown-host policy; capped by prefetch.handshakeTimeoutMillis. 0: never wait (the certificate still follows)."),
    ACME_PERMISSION_CACHE_SECONDS("acme.permissionCacheSeconds", Owner.FACTORY, "acmePermissionCacheSeconds", Kind.LONG, "600", null,
        "How long a node remembers a permission answer (allowed or denied), in seconds."),
    ACME_PERMISSION_CHECKS_PER_SECOND("acme.permissionChecksPerSecond", Owner.FACTORY, "acmePermissionChecksPerSecond", Kind.LONG, "10", null,
        "Most permission checks (table or ask endpoint) a node makes per second for names it has no answer for; names beyond it are denied for now and not remembered."),
    ACME_MAX_ORDERS_PER_HOUR("acme.maxOrdersPerHour", Owner.FACTORY, "acmeMaxOrdersPerHour", Kind.LONG, "100", null,
        "Most ACME orders the whole fleet starts per hour against this directory (Let's Encrypt allows 300 new orders per 3 hours per account)."),
    ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK("acme.maxOrdersPerDomainPerWeek", Owner.FACTORY, "acmeMaxOrdersPerDomainPerWeek", Kind.LONG, "40", null,
        "Most ACME orders the whole fleet starts per week for names under one registered domain (its last two labels; Let's Encrypt allows 50 certificates per registered domain per week)."),
    ACME_MAX_CONCURRENT_ORDERS("acme.maxConcurrentOrders", Owner.FACTORY, "acmeMaxConcurrentOrders", Kind.INT, "4", null,
        "Most ACME orders one node runs at once; more wait their turn."),
    ACME_ORDER_TIMEOUT_SECONDS("acme.orderTimeoutSeconds", Owner.FACTORY, "acmeOrderTimeoutSeconds", Kind.LONG, "120", null,
        "Longest one order may take (validation, finalisation, download), in seconds; a node holding a name's order lease longer than this loses it to another node."),
    ACME_RETRY_SECONDS("acme.retrySeconds", Owner.FACTORY, "acmeRetrySeconds", Kind.LONG, "60", null,
        "Wait before a failed name is ordered again, in seconds; doubled after each further failure, up to a day."),
    ACME_RENEWAL_INTERVAL_SECONDS("acme.renewalIntervalSeconds", Owner.FACTORY, "acmeRenewalIntervalSeconds", Kind.LONG, "600", null,
        "How often the fleet's renewal leader looks for issued certificates to renew (past two thirds of their lifetime), in seconds.");

    /** The prefix of every property name. */
    public static final String PREFIX = "jetty.dynamicSni.";

    /** The bean a setting configures. */
    public enum Owner
    {
        /** {@code DynamicSniSslContextFactory} (XML id {@code sslContextFactory}). */
        FACTORY,
        /** {@code PrefetchInstaller} (XML id {@code dynamicSniPrefetch}). */
        PREFETCH
    }

    /** How a value is written and read. */
    public enum Kind
    {
        /** Free text; blank means unset. */
        STRING,
        /** Free text never shown: logs, JMX and {@code doctor} print {@code ***}. */
        SECRET,
        /** A file path; relative paths resolve against {@code $JETTY_BASE}. */
        FILE,
        /** Comma-separated file paths. */
        FILES,
        /** A whole number of the Java type {@code int}, at least the minimum. */
        INT,
        /** A whole number of the Java type {@code long}, at least the minimum. */
        LONG,
        /** {@code true} or {@code false}. */
        BOOLEAN,
        /** One of a fixed set of words, case-insensitive. */
        CHOICE
    }

    private final String key;
    private final Owner owner;
    private final String beanProperty;
    private final Kind kind;
    private final String defaultValue;
    private final long minimum;
    private final String environmentVariable;
    private final String description;
    private final List<String> choices;

    Setting(String key, Owner owner, String beanProperty, Kind kind, String defaultValue, String environmentVariable, String description, String... choices)
    {
        this(key, owner, beanProperty, kind, defaultValue, 1, environmentVariable, description, choices);
    }

    Setting(String key, Owner owner, String beanProperty, Kind kind, String defaultValue, long minimum, String environmentVariable, String description, String... choices)
    {
        this.key = key;
        this.owner = owner;
        this.beanProperty = beanProperty;
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.minimum = minimum;
        this.environmentVariable = environmentVariable;
        this.description = description;
        this.choices = List.of(choices);
    }

    /** @return the full property name, e.g. {@code jetty.dynamicSni.redis.address} */
    public String property()
    {
        return PREFIX + key;
    }

    /** @return the name after {@link #PREFIX}, e.g. {@code redis.address} */
    public String key()
    {
        return key;
    }

    public Owner owner()
    {
        return owner;
    }

    /** @return the JavaBean property of the owner that Jetty XML sets, e.g. {@code redisAddress} */
    public String beanProperty()
    {
        return beanProperty;
    }

    public Kind kind()
    {
        return kind;
    }

    /** @return the default as written in an ini file; empty when there is none */
    public String defaultValue()
    {
        return defaultValue;
    }

    /** @return the smallest value accepted, for {@link Kind#INT} and {@link Kind#LONG} */
    public long minimum()
    {
        return minimum;
    }

    /** @return the environment variable read when the property is not set, or null */
    public String environmentVariable()
    {
        return environmentVariable;
    }

    /** @return the documentation, as in the ini-template */
    public String description()
    {
        return description;
    }

    /** @return the words a {@link Kind#CHOICE} accepts */
    public List<String> choices()
    {
        return choices;
    }

    /** @return the default as a {@code long}; only for numeric settings */
    public long defaultLong()
    {
        return Long.parseLong(defaultValue);
    }

    /** @return the default as an {@code int}; only for {@link Kind#INT} */
    public int defaultInt()
    {
        return Integer.parseInt(defaultValue);
    }

    /** @return the default as a {@code boolean}; only for {@link Kind#BOOLEAN} */
    public boolean defaultBoolean()
    {
        return Boolean.parseBoolean(defaultValue);
    }

    /** @return the default text, or null when there is none */
    public String defaultString()
    {
        return defaultValue.isEmpty() ? null : defaultValue;
    }

    /**
     * Checks a numeric value against this setting's minimum.
     *
     * @throws IllegalStateException naming the property, the value and what is accepted
     */
    public long check(long value)
    {
        if (value < minimum)
            throw new IllegalStateException(property() + "=" + value + (minimum == 1 ? " must be greater than 0" : " must be at least " + minimum));
        return value;
    }

    /**
     * Parses a value written in an ini file or on a command line.
     *
     * @return the value as {@link String}, {@link Integer}, {@link Long} or {@link Boolean}; null for blank
     * @throws IllegalArgumentException naming the property, the value and what is accepted
     */
    public Object parse(String text)
    {
        if (text == null || text.isBlank())
            return null;
        String value = text.trim();
        try
        {
            return switch (kind)
            {
                case INT -> (int)check(Integer.parseInt(value));
                case LONG -> check(Long.parseLong(value));
                case BOOLEAN ->
                {
                    if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false"))
                        throw new IllegalArgumentException(property() + "='" + value + "' is not valid: use true or false");
                    yield Boolean.parseBoolean(value);
                }
                case CHOICE ->
                {
                    String word = value.toLowerCase(Locale.ROOT);
                    if (!choices.contains(word))
                        throw new IllegalArgumentException(property() + "='" + value + "' is not valid: use " + String.join(" or ", choices));
                    yield word;
                }
                case SECRET -> text;
                default -> value;
            };
        }
        catch (NumberFormatException x)
        {
            throw new IllegalArgumentException(property() + "='" + value + "' is not a whole number");
        }
        catch (IllegalStateException x)
        {
            throw new IllegalArgumentException(x.getMessage());
        }
    }

    /** @return the setting of a full property name, or null */
    public static Setting ofProperty(String property)
    {
        for (Setting setting : values())
        {
            if (setting.property().equals(property))
                return setting;
        }
        return null;
    }
}
