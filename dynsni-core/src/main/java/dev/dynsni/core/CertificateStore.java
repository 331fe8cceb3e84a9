package dev.dynsni.core;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Where certificates come from: the SPI behind the in-process cache.
 *
 * <p>Implementations shipped in {@code dev.dynsni.core.store}: {@code JdbcCertificateStore}
 * (PostgreSQL, the source of truth, with a change feed), {@code CachingCertificateStore} (a
 * {@link CertificateMap} such as Redis in front of any store), {@code RedisCertificateStore} (Redis
 * alone, read-only) and {@code InMemoryCertificateStore} (tests, embedded use). Each is a bean with
 * setters, configurable from Jetty XML or code and handed to the Jetty factory with
 * {@code setCertificateStore}; the owner calls {@link #start()} and {@link #stop()}.</p>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Thread-safety:</b> every method may be called from many threads at once.</li>
 *   <li><b>Blocking:</b> {@link #load(List)} must not block the caller; it returns a future and
 *       does its I/O elsewhere. The future must complete (normally or exceptionally) within the
 *       store's own timeouts.</li>
 *   <li><b>Not found:</b> the returned map has an entry for every name the store could answer: an
 *       empty list means "no certificate for this name". A name absent from the map means the store
 *       could not tell (for example a cache tier that missed and could not reach the tier behind
 *       it). A store that cannot answer at all completes the future exceptionally.</li>
 *   <li><b>Consistency:</b> a change committed to the source of truth is reported to the
 *       {@link ChangeListener} within about a second; in between, a store may answer with the
 *       previous version.</li>
 * </ul>
 */
public interface CertificateStore extends StoreLifeCycle
{
    /**
     * Looks up the records stored under the given names.
     *
     * @param names stored names: exact hosts and {@code *.parent} wildcards, already normalised
     * @return a future of name to records, as described in the class contract
     */
    CompletableFuture<Map<String, List<CertificateRecord>>> load(List<String> names);

    /**
     * Lists every stored name, for the host index that answers names nobody stored without a
     * lookup. Blocking: called on a background thread, never during a handshake; may take seconds
     * for millions of names. The listing sees every change committed before the call.
     *
     * <p>A store that lists its names must report every later change of them to its
     * {@link ChangeListener}, and call {@link ChangeListener#onChangesLost()} once its change feed is
     * connected and after every gap in it: the index is built (again) then, and until it is built
     * every name is looked up.</p>
     *
     * @param action called with each stored name (an exact host or {@code *.parent}), in any order,
     *               possibly more than once
     * @return false when this store cannot list its names: every name is then looked up
     * @throws Exception when the listing failed (the caller tries again later)
     */
    default boolean forEachName(Consumer<String> action) throws Exception
    {
        return false;
    }

    /**
     * Registers the listener told about changes. The owner registers one listener before
     * starting the store; a store without a change feed may ignore it.
     *
     * @param listener the listener
     */
    default void setChangeListener(ChangeListener listener)
    {
    }

    /**
     * Told about changes in the source of truth, on a store thread; must not block.
     */
    interface ChangeListener
    {
        /**
         * The records of one stored name changed (inserted, updated or deleted).
         *
         * @param name    the stored name
         * @param version the version of the change, or 0 when unknown
         */
        void onChange(String name, long version);

        /**
         * Changes may have been missed (the feed was disconnected): whatever is cached may be stale.
         */
        void onChangesLost();
    }
}
