package dev.dynsni.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the tables of one harness run share: the PKI, the tenant schema (created on first use) and
 * the schemas and Redis prefixes to clean up at the end.
 */
final class BenchContext
{
    final BenchConfig config;
    final BenchPki pki;
    final String runId = Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
    private final Set<String> schemas = new LinkedHashSet<>();
    private final Set<String> redisPrefixes = new LinkedHashSet<>();
    private String tenantSchema;
    private Path staticKeystore;
    private BenchPki.Leaf staticLeaf;

    BenchContext(BenchConfig config)
    {
        this.config = config;
        this.pki = new BenchPki(config.keyPool);
    }

    String schema(String name)
    {
        String schema = config.prefix + name;
        schemas.add(schema);
        return schema;
    }

    String redisPrefix(String name)
    {
        String prefix = "bench:" + runId + ":" + name + ":";
        redisPrefixes.add(prefix);
        return prefix;
    }

    /** Tenants the cold configuration warms the JIT on, stored after the measured tenants. */
    int warmupTenants()
    {
        return Math.min(1000, config.tenants);
    }

    /** The schema holding t0..t(tenants + warm-up tenants - 1). */
    synchronized String tenantSchema() throws Exception
    {
        if (tenantSchema == null)
        {
            String schema = schema("tenants");
            long start = System.nanoTime();
            BenchData.recreateSchema(config, schema);
            BenchData.populate(config, pki, schema, 0, config.tenants + warmupTenants(), BenchData::tenant, null);
            Bench.log("tenant schema %s: %d hosts in %.1f s", schema, config.tenants + warmupTenants(), (System.nanoTime() - start) / 1e9);
            tenantSchema = schema;
        }
        return tenantSchema;
    }

    /** A keystore with one ECDSA P-256 certificate for *.bench.test: the static baseline. */
    synchronized Path staticKeystore() throws Exception
    {
        if (staticKeystore == null)
        {
            staticKeystore = config.workDir.resolve("static.p12");
            BenchData.writeKeystore(config, pki, List.of(staticLeaf()), staticKeystore);
        }
        return staticKeystore;
    }

    /** @return the static baseline's certificate (the one in {@link #staticKeystore()}) */
    synchronized BenchPki.Leaf staticLeaf()
    {
        if (staticLeaf == null)
            staticLeaf = pki.leaf("*." + BenchData.DOMAIN, 0);
        return staticLeaf;
    }

    void cleanup()
    {
        for (String schema : new ArrayList<>(schemas))
        {
            try
            {
                BenchData.dropSchema(config, schema);
            }
            catch (Exception x)
            {
                Bench.log("cannot drop schema %s: %s", schema, x);
            }
        }
        if (redisPrefixes.isEmpty())
            return;
        try
        {
            BenchData.deleteRedisKeys(config, redisPrefixes);
        }
        catch (Exception x)
        {
            Bench.log("cannot delete redis keys %s: %s", redisPrefixes, x);
        }
    }
}
