package dev.dynsni;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.ChangeFeed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every name stored, as this node knows it, so that a name nobody stored is answered by the
 * unknown-host policy without asking Redis or PostgreSQL.
 *
 * <p><b>What is held.</b> Each name is hashed to 63 bits: the first bytes of SHA-256 over a random
 * per-process salt and the name, so no name can be crafted offline to collide with a stored one.
 * Up to {@value #EXACT_MAX} names the hashes themselves are held, sorted (8 bytes per name, no false
 * positive in practice); above, the names of a build are held as 16-bit fingerprints in hash
 * buckets of 8 to 16 ({@link Fingerprints}: about 2.3 bytes per name, at most 1 unknown name in 4,000
 * let through). There are no false negatives; a false positive (or a name removed since the last
 * build) costs one lookup, as without the index.</p>
 *
 * <p><b>Kept current.</b> The index is built by listing the store ({@link CertificateStore#forEachName})
 * on a thread of its own whenever the store reports {@code onChangesLost} (its feed connected, or
 * came back after a gap; the first build after start waits a few seconds, so that it does not
 * compete with the server's start for CPU): until that build completes the index rules nothing out,
 * so a node behaves as without it, and the first handshakes never wait for it. Every change from the feed adds its
 * name (a removal is forgotten at the next build): the additions go into a small second sorted
 * array, folded into the first when it passes 1/8 of it. A name written to the store is therefore
 * ruled out on a node until its change notification reached that node, like every other change
 * (within the propagation bound of about a second). While the feed is down nothing is ruled out;
 * when it is back the store reports the gap and the index is built again.</p>
 *
 * <p>Concurrency: readers read one volatile, immutable {@link Snapshot}, without locks or
 * allocation besides the hash. Additions (the feed's thread) and the end of a build are serialized
 * on this object. A build records the names added while it lists, since the listing may not see
 * them, and keeps them after it completes; a gap reported during a build makes it start over.</p>
 */
final class HostIndex
{
    private static final Logger LOG = LoggerFactory.getLogger(HostIndex.class);
    private static final long[] NONE = new long[0];
    private static final int MIN_ADDED_BEFORE_FOLD = 1024;

    /** Up to this many names a build keeps exact hashes; above, {@link Fingerprints}. */
    static final int EXACT_MAX = 65_536;

    /** The names of the last build, in one of two forms. */
    private interface Base
    {
        boolean contains(long hash);

        /** @return the entries held */
        int size();

        /** @return the heap of the arrays */
        long bytes();

        /** @return this with the sorted, distinct hashes added */
        Base with(long[] hashes);
    }

    /** Sorted distinct hashes. */
    private record Exact(long[] hashes) implements Base
    {
        @Override
        public boolean contains(long hash)
        {
            return Arrays.binarySearch(hashes, hash) >= 0;
        }

        @Override
        public int size()
        {
            return hashes.length;
        }

        @Override
        public long bytes()
        {
            return 16L + 8L * hashes.length;
        }

        @Override
        public Base with(long[] added)
        {
            return new Exact(merge(hashes, added));
        }
    }

    /**
     * A hash's top {@code bucketBits} bits choose its bucket, its next 16 bits are its fingerprint;
     * each bucket's fingerprints are sorted, and {@code starts[b]} is where bucket {@code b} begins
     * in {@code tags}. A build sizes the buckets to hold 8 to 16 names, so a name not stored matches
     * with probability at most 16 / 65,536; names added later go into the same buckets.
     */
    record Fingerprints(int bucketBits, int[] starts, short[] tags) implements Base
    {
        static Fingerprints of(long[] sortedHashes)
        {
            int buckets = Math.max(1, Integer.highestOneBit(Math.max(1, sortedHashes.length / 8)));
            return build(Integer.numberOfTrailingZeros(buckets), keys(sortedHashes, Integer.numberOfTrailingZeros(buckets)));
        }

        /** @return the keys (bucket and fingerprint: the top {@code bucketBits + 16} bits) of sorted hashes, sorted and distinct */
        private static long[] keys(long[] sortedHashes, int bucketBits)
        {
            long[] keys = new long[sortedHashes.length];
            int n = 0;
            for (long hash : sortedHashes)
            {
                long key = hash >>> (63 - bucketBits - 16);
                if (n == 0 || keys[n - 1] != key)
                    keys[n++] = key;
            }
            return n == keys.length ? keys : Arrays.copyOf(keys, n);
        }

        private static Fingerprints build(int bucketBits, long[] keys)
        {
            int[] starts = new int[(1 << bucketBits) + 1];
            short[] tags = new short[keys.length];
            int bucket = 0;
            for (int i = 0; i < keys.length; i++)
            {
                int b = (int)(keys[i] >>> 16);
                while (bucket < b)
                {
                    starts[++bucket] = i;
                }
                tags[i] = (short)keys[i];
            }
            while (bucket < starts.length - 1)
            {
                starts[++bucket] = keys.length;
            }
            return new Fingerprints(bucketBits, starts, tags);
        }

        @Override
        public boolean contains(long hash)
        {
            long key = hash >>> (63 - bucketBits - 16);
            int b = (int)(key >>> 16);
            short tag = (short)key;
            for (int i = starts[b], end = starts[b + 1]; i < end; i++)
            {
                if (tags[i] == tag)
                    return true;
            }
            return false;
        }

        @Override
        public int size()
        {
            return tags.length;
        }

        @Override
        public long bytes()
        {
            return 16L + 4L * starts.length + 16L + 2L * tags.length;
        }

        @Override
        public Base with(long[] added)
        {
            long[] held = new long[tags.length];
            for (int b = 0; b < starts.length - 1; b++)
            {
                for (int i = starts[b]; i < starts[b + 1]; i++)
                {
                    held[i] = ((long)b << 16) | (tags[i] & 0xFFFF);
                }
            }
            return build(bucketBits, merge(held, keys(added, bucketBits)));
        }
    }

    /** The names known: {@code base} from the last build, {@code added} (exact hashes) since; rules out names only when {@code ready}. */
    private record Snapshot(Base base, long[] added, boolean ready)
    {
        boolean contains(long hash)
        {
            return base.contains(hash) || (added.length > 0 && Arrays.binarySearch(added, hash) >= 0);
        }
    }

    private final CertificateStore store;
    private final BooleanSupplier feedConnected;
    private final long firstBuildDelayMillis;
    private final byte[] salt = new byte[16];
    private final ThreadLocal<MessageDigest> digests = ThreadLocal.withInitial(HostIndex::sha256);
    private final LongAdder builds = new LongAdder();
    private final LongAdder buildFailures = new LongAdder();
    private volatile Snapshot snapshot = new Snapshot(new Exact(NONE), NONE, false);
    private volatile long lastBuildMillis;
    private volatile boolean unsupported;
    private volatile boolean stopped;
    // guarded by this
    private Thread builder;
    private boolean buildAgain;
    private long[] addedDuringBuild;
    private int addedDuringBuildCount;

    /**
     * @param feedConnected whether the store's change feed is connected now: while it is not, changes
     *                      may be missed and nothing is ruled out
     */
    HostIndex(CertificateStore store, BooleanSupplier feedConnected)
    {
        this(store, feedConnected, 0);
    }

    /**
     * @param firstBuildDelayMillis how long the first build waits before it lists the store, so that
     *                              listing millions of names does not compete with the server's start
     *                              for CPU (later builds, after a gap, start at once)
     */
    HostIndex(CertificateStore store, BooleanSupplier feedConnected, long firstBuildDelayMillis)
    {
        this.store = store;
        this.feedConnected = feedConnected;
        this.firstBuildDelayMillis = firstBuildDelayMillis;
        new SecureRandom().nextBytes(salt);
    }

    /**
     * @param name a stored name: a normalised host or {@code *.parent}
     * @return whether the index is built and the name is certainly not stored
     */
    boolean rulesOut(String name)
    {
        Snapshot s = snapshot;
        return s.ready && feedConnected.getAsBoolean() && !s.contains(hash(name));
    }

    /** @return whether the index is built and current (its feed connected), so that it rules names out */
    boolean isReady()
    {
        return snapshot.ready && feedConnected.getAsBoolean();
    }

    /** A stored name changed (it may be new): from now on it is never ruled out. */
    synchronized void add(String name)
    {
        if (ChangeFeed.EVICT_ALL.equals(name))
            return;
        long hash = hash(name);
        if (addedDuringBuild != null)
        {
            if (addedDuringBuildCount == addedDuringBuild.length)
                addedDuringBuild = Arrays.copyOf(addedDuringBuild, Math.max(64, addedDuringBuildCount * 2));
            addedDuringBuild[addedDuringBuildCount++] = hash;
        }
        Snapshot s = snapshot;
        if (s.contains(hash))
            return;
        long[] added = insert(s.added, hash);
        if (added.length > Math.max(MIN_ADDED_BEFORE_FOLD, s.base.size() / 8))
            snapshot = new Snapshot(s.base.with(added), NONE, s.ready);
        else
            snapshot = new Snapshot(s.base, added, s.ready);
    }

    /**
     * Changes may have been missed (or the feed just connected): stop ruling names out and list the
     * store again in the background.
     */
    synchronized void rebuild()
    {
        if (stopped || unsupported)
            return;
        Snapshot s = snapshot;
        if (s.ready)
            snapshot = new Snapshot(s.base, s.added, false);
        if (builder != null)
        {
            buildAgain = true;
            return;
        }
        builder = new Thread(this::buildLoop, "dynsni-host-index");
        builder.setDaemon(true);
        builder.start();
    }

    synchronized void stop()
    {
        stopped = true;
        if (builder != null)
            builder.interrupt();
    }

    private void buildLoop()
    {
        long backoffMillis = 500;
        if (builds.sum() == 0 && buildFailures.sum() == 0 && firstBuildDelayMillis > 0)
        {
            try
            {
                Thread.sleep(firstBuildDelayMillis);
            }
            catch (InterruptedException x)
            {
                synchronized (this)
                {
                    builder = null;
                }
                return;
            }
        }
        while (!stopped)
        {
            synchronized (this)
            {
                buildAgain = false;
                addedDuringBuild = new long[64];
                addedDuringBuildCount = 0;
            }
            long start = System.nanoTime();
            long[][] hashes = {new long[1024]};
            int[] count = {0};
            boolean listed;
            try
            {
                listed = store.forEachName(name ->
                {
                    if (count[0] == hashes[0].length)
                        hashes[0] = Arrays.copyOf(hashes[0], hashes[0].length * 2);
                    hashes[0][count[0]++] = hash(name);
                });
            }
            catch (Throwable x)
            {
                buildFailures.increment();
                if (backoffMillis == 500)
                    LOG.warn("Host index cannot be built, every name is looked up until it is reason={}", String.valueOf(x));
                synchronized (this)
                {
                    addedDuringBuild = null;
                }
                try
                {
                    Thread.sleep(backoffMillis);
                }
                catch (InterruptedException interrupted)
                {
                    break;
                }
                backoffMillis = Math.min(backoffMillis * 2, 30_000);
                continue;
            }
            long[] sorted = listed ? distinct(hashes[0], count[0]) : NONE;
            hashes[0] = null;
            Base base = sorted.length <= EXACT_MAX ? new Exact(sorted) : Fingerprints.of(sorted);
            synchronized (this)
            {
                long[] during = addedDuringBuild == null ? NONE : distinct(addedDuringBuild, addedDuringBuildCount);
                addedDuringBuild = null;
                if (!listed)
                {
                    unsupported = true;
                    builder = null;
                    LOG.info("Host index off: store={} cannot list its names, every name is looked up", store);
                    return;
                }
                if (buildAgain && !stopped)
                    continue;
                builds.increment();
                lastBuildMillis = (System.nanoTime() - start) / 1_000_000;
                snapshot = new Snapshot(base, during, true);
                builder = null;
                LOG.info("Host index built names={} entries={} bytes={} millis={}", sorted.length, getEntries(), getBytes(), lastBuildMillis);
                return;
            }
        }
        synchronized (this)
        {
            builder = null;
            addedDuringBuild = null;
        }
    }

    /** @return the number of name hashes held */
    long getEntries()
    {
        Snapshot s = snapshot;
        return s.base.size() + s.added.length;
    }

    /** @return the heap the index's arrays take */
    long getBytes()
    {
        Snapshot s = snapshot;
        return s.base.bytes() + 16L + 8L * s.added.length;
    }

    long getBuilds()
    {
        return builds.sum();
    }

    long getBuildFailures()
    {
        return buildFailures.sum();
    }

    long getLastBuildMillis()
    {
        return lastBuildMillis;
    }

    long hash(String name)
    {
        MessageDigest digest = digests.get();
        digest.update(salt);
        byte[] out = digest.digest(name.getBytes(StandardCharsets.UTF_8));
        long hash = 0;
        for (int i = 0; i < 8; i++)
        {
            hash = (hash << 8) | (out[i] & 0xFF);
        }
        return hash >>> 1; // 63 bits: signed order is the order of the bucket bits
    }

    private static MessageDigest sha256()
    {
        try
        {
            return MessageDigest.getInstance("SHA-256");
        }
        catch (NoSuchAlgorithmException x)
        {
            throw new IllegalStateException("SHA-256 is missing from this JDK", x);
        }
    }

    /** @return the distinct values of the first {@code count}, sorted, in an array of their size */
    private static long[] distinct(long[] values, int count)
    {
        long[] sorted = Arrays.copyOf(values, count);
        Arrays.sort(sorted);
        int n = 0;
        for (int i = 0; i < sorted.length; i++)
        {
            if (n == 0 || sorted[n - 1] != sorted[i])
                sorted[n++] = sorted[i];
        }
        return n == sorted.length ? sorted : Arrays.copyOf(sorted, n);
    }

    private static long[] insert(long[] sorted, long value)
    {
        int at = -Arrays.binarySearch(sorted, value) - 1;
        long[] out = new long[sorted.length + 1];
        System.arraycopy(sorted, 0, out, 0, at);
        out[at] = value;
        System.arraycopy(sorted, at, out, at + 1, sorted.length - at);
        return out;
    }

    private static long[] merge(long[] a, long[] b)
    {
        long[] out = new long[a.length + b.length];
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < a.length || j < b.length)
        {
            long next = j == b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
            if (n == 0 || out[n - 1] != next)
                out[n++] = next;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    @Override
    public String toString()
    {
        Snapshot s = snapshot;
        return "HostIndex[ready=" + s.ready + ", entries=" + (s.base.size() + s.added.length) + "]";
    }
}
