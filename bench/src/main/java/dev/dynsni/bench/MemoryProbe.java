package dev.dynsni.bench;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.dynsni.DynamicSniSslContextFactory;
import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.store.InMemoryCertificateStore;

/**
 * The measuring JVM of table 9: loads the records of a file into an in-memory store, fills the
 * JDK's own cache of parsed certificates, lets the library's factory load the first
 * {@code warmUp} hosts into L1, reads the heap used after full
 * collections, loads the other hosts, reads it again, and prints
 * {@code RESULT bytesPerHost=... estimatePerHost=... hosts=...}.
 *
 * <p>Runs against the current library or an older build of it (the "before" of table 9), so it
 * calls only what both have: the factory's {@code setCertificateStore}, {@code setCacheMaxEntries}
 * and {@code prefetch}; the byte bound and the estimate are reached by reflection when present.</p>
 *
 * <p>Arguments: records file (one record per line: name, key type, base64 chain PEM, base64 key
 * PEM, tab-separated), warm-up hosts.</p>
 */
public final class MemoryProbe
{
    private MemoryProbe()
    {
    }

    public static void main(String[] args) throws Exception
    {
        Path file = Path.of(args[0]);
        int warmUp = Integer.parseInt(args[1]);
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        List<String> hosts = new ArrayList<>();
        List<byte[]> chains = new ArrayList<>();
        Base64.Decoder base64 = Base64.getDecoder();
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII))
        {
            String[] cells = line.split("\t");
            store.put(new CertificateRecord(cells[0], cells[1], new String(base64.decode(cells[2]), StandardCharsets.US_ASCII),
                new String(base64.decode(cells[3]), StandardCharsets.US_ASCII), CertificateRecord.PLAIN, 0));
            hosts.add(cells[0] + "\t" + cells[1]);
            chains.add(base64.decode(cells[2]));
        }
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        factory.setCacheMaxEntries(hosts.size());
        Method maxBytes = method(factory, "setCacheMaxBytes", long.class);
        if (maxBytes != null)
            maxBytes.invoke(factory, Long.MAX_VALUE / 2);
        fillTheJdkCertificateCache(chains);
        chains.clear();
        factory.start();
        try
        {
            load(factory, hosts.subList(0, warmUp));
            long before = usedAfterGc();
            long estimateBefore = estimate(factory);
            load(factory, hosts.subList(warmUp, hosts.size()));
            long after = usedAfterGc();
            long estimateAfter = estimate(factory);
            int measured = hosts.size() - warmUp;
            System.out.printf(Locale.ROOT, "RESULT bytesPerHost=%.1f estimatePerHost=%s hosts=%d version=%s%n", (after - before) / (double)measured,
                estimateAfter < 0 ? "none" : String.format(Locale.ROOT, "%.1f", (estimateAfter - estimateBefore) / (double)measured), measured,
                maxBytes == null ? "before" : "current");
        }
        finally
        {
            factory.stop();
        }
    }

    private static void load(DynamicSniSslContextFactory factory, List<String> hosts) throws Exception
    {
        List<CompletableFuture<?>> loads = new ArrayList<>();
        for (String hostAndKeyType : hosts)
        {
            String[] cells = hostAndKeyType.split("\t");
            loads.add(factory.prefetch(cells[0], cells[1]));
        }
        for (CompletableFuture<?> load : loads)
        {
            if (load.get(5, TimeUnit.MINUTES) == null)
                throw new IllegalStateException("a host did not resolve: the records are not servable");
        }
    }

    /**
     * The JDK's X.509 factory keeps its last 750 parsed certificates (soft values, strong keys holding
     * each encoding): filled before measuring, so that its growth is not counted as the cache's.
     */
    private static void fillTheJdkCertificateCache(List<byte[]> chains) throws Exception
    {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        for (byte[] chain : chains)
        {
            ByteArrayInputStream in = new ByteArrayInputStream(chain);
            while (in.available() > 0 && factory.generateCertificate(in) != null)
            {
                // each certificate of the chain, one by one, through the factory's cache
            }
        }
    }

    /** @return the cache's own estimate of its bytes, or -1 when the library has none */
    private static long estimate(DynamicSniSslContextFactory factory) throws Exception
    {
        Method getter = method(factory.getStatistics(), "getL1EstimatedBytes");
        return getter == null ? -1 : (long)getter.invoke(factory.getStatistics());
    }

    private static Method method(Object target, String name, Class<?>... parameters)
    {
        try
        {
            return target.getClass().getMethod(name, parameters);
        }
        catch (NoSuchMethodException x)
        {
            return null;
        }
    }

    /** @return the heap in use after full collections, the least of a few */
    private static long usedAfterGc() throws InterruptedException
    {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++)
        {
            System.gc();
            Thread.sleep(100);
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
