package dev.dynsni.core;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A shared cache tier in front of a {@link CertificateStore}, as Jetty's {@code SessionDataMap} is
 * in front of a {@code SessionDataStore}: it holds copies of what the store answered, with a
 * lifetime, and can be told that a name changed. Redis is the one shipped
 * ({@code RedisCertificateStore}); {@code CachingCertificateStore} composes a map and a store.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Thread-safety:</b> every method may be called from many threads at once.</li>
 *   <li><b>Blocking:</b> no method blocks; each returns a future completed within the map's own
 *       timeouts, on a thread of the map.</li>
 *   <li><b>Not found:</b> {@link #get(List)} answers only the names it holds; an empty list is a
 *       held "no certificate". A map that cannot answer completes exceptionally.</li>
 *   <li><b>Fencing:</b> after {@link #invalidate(String, long)} with version {@code v} succeeded,
 *       the map never again answers an entry older than {@code v} for that name, however late a
 *       {@link #put(String, List, long)} of older data arrives (for at least a minute, longer than
 *       any read in flight).</li>
 * </ul>
 */
public interface CertificateMap extends StoreLifeCycle
{
    /**
     * @param names stored names, normalised
     * @return the names held, with their records (an empty list for "no certificate"); names not
     *     held are absent
     */
    CompletableFuture<Map<String, List<CertificateRecord>>> get(List<String> names);

    /**
     * @return whether the map can answer now; false while it is still starting (a Redis client
     *     loading and connecting), when a caching store asks the store behind it instead of
     *     waiting. Never blocks.
     */
    default boolean isReady()
    {
        return true;
    }

    /**
     * Writes what the store answered for a name, unless a change newer than {@code version} was
     * announced meanwhile.
     *
     * @param version the largest version among the records, 0 for none
     * @return a future of whether the entry was written; false on refusal or failure, never exceptional
     */
    CompletableFuture<Boolean> put(String name, List<CertificateRecord> records, long version);

    /**
     * Drops the entry of a name and fences out writes older than {@code version}.
     *
     * @param version the version of the change; 0 or less when unknown (fences out every write until
     *                the fence expires)
     * @return a future of whether the fence is in place; false on failure, never exceptional
     */
    CompletableFuture<Boolean> invalidate(String name, long version);

    /**
     * Drops every entry (the change feed's {@link ChangeFeed#EVICT_ALL}: {@code dynsni evict --all},
     * a {@code TRUNCATE} of the certificate table). Fences are kept.
     *
     * @return a future of the number of entries dropped; exceptional when the map failed
     */
    CompletableFuture<Long> evictAll();
}
