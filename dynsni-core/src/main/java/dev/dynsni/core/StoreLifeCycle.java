package dev.dynsni.core;

import java.util.List;

import dev.dynsni.core.store.StoreCounters;

/**
 * Start, stop and counters of a store or cache tier. The owner (the Jetty factory, the admin tool)
 * starts a store once before its first use and stops it once; a composition starts and stops its
 * parts. Kept free of Jetty types so the admin tool can run stores without Jetty.
 */
public interface StoreLifeCycle
{
    /**
     * Opens pools and feeds. Must not wait for a remote service that is down: a store whose
     * service is unreachable at start still starts, and answers with failures until it is back.
     *
     * @throws Exception a configuration error, with a message naming the setting
     */
    default void start() throws Exception
    {
    }

    /** Closes what {@link #start()} opened; waits at most a few seconds. */
    default void stop() throws Exception
    {
    }

    /** @return the counters of every remote tier inside, for reporting; empty when none */
    default List<StoreCounters> getCounters()
    {
        return List.of();
    }
}
