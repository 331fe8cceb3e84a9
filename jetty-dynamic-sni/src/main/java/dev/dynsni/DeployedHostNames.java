package dev.dynsni;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import dev.dynsni.core.HostNames;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.component.Container;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The names claimed by the {@code virtualHosts} of the contexts running in a server, kept current as
 * contexts are deployed, started, stopped and undeployed (by Jetty's deployer, hot deploy included,
 * or by code). With {@code jetty.dynamicSni.hostedNames=deployed} these are the names the server
 * hosts ({@link HostedNames}).
 *
 * <p>What counts, per started context (a context that is stopped, starting or failed claims nothing,
 * as Jetty routes no request to it):</p>
 * <ul>
 *   <li>{@code shop.example.com}: that name (case-insensitive, one trailing dot ignored);</li>
 *   <li>{@code *.example.com}: every name one label below {@code example.com}, as Jetty matches it;
 *       the parent must have at least two labels ({@code *.com} is ignored and logged);</li>
 *   <li>{@code @connector} and {@code name@connector}: nothing. Jetty reports a connector-bound
 *       virtual host by its connector only;</li>
 *   <li>IP addresses and invalid names: nothing (logged once).</li>
 * </ul>
 * <p>A context without virtual hosts (a catch-all, such as a shared {@code ROOT}) answers requests
 * for every name but makes no name hosted: "hosted" is what some context explicitly claims, so
 * that the answer can safely grant certificates.</p>
 *
 * <p>Concurrency: the set is rebuilt, under this object's lock, on every deployment and lifecycle
 * event of a context (rare) and published as an immutable snapshot through a volatile field;
 * {@link #isHosted(String)} reads the snapshot without locking or allocation beyond one substring.
 * The contexts are found with a {@link Container.InheritedListener} on the root, the mechanism
 * Jetty's own JMX support uses, so it sees contexts wherever they sit in the handler tree and
 * whatever deploys them.</p>
 */
@ManagedObject("Host names claimed by the virtual hosts of the running contexts")
public class DeployedHostNames extends AbstractLifeCycle implements HostedNames
{
    private static final Logger LOG = LoggerFactory.getLogger(DeployedHostNames.class);

    /** An immutable snapshot: exact names, and the parents of one-label wildcards. */
    private record Names(Set<String> exact, Set<String> wildcardParents)
    {
        static final Names NONE = new Names(Set.of(), Set.of());
    }

    private final Handler.Container root;
    private final Set<ContextHandler> contexts = ConcurrentHashMap.newKeySet();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final TreeListener treeListener = new TreeListener();
    private final ContextListener contextListener = new ContextListener();
    private volatile Names names = Names.NONE;

    /**
     * @param root the server (or any handler container) whose contexts are watched
     */
    public DeployedHostNames(@Name("server") Handler.Container root)
    {
        this.root = root;
    }

    @Override
    public boolean isHosted(String host)
    {
        Names snapshot = names;
        if (snapshot.exact().contains(host))
            return true;
        int dot = host.indexOf('.');
        return dot > 0 && !snapshot.wildcardParents().isEmpty() && snapshot.wildcardParents().contains(host.substring(dot + 1));
    }

    /** @return the hosted names, sorted: exact names and {@code *.parent} wildcards */
    @ManagedAttribute("Names claimed by the virtual hosts of the running contexts")
    public List<String> getNames()
    {
        Names snapshot = names;
        Set<String> sorted = new TreeSet<>(snapshot.exact());
        snapshot.wildcardParents().forEach(parent -> sorted.add("*." + parent));
        return List.copyOf(sorted);
    }

    @Override
    protected void doStart() throws Exception
    {
        // Reports every bean already in the tree (and, inherited, every one added later) to the listener.
        root.addEventListener(treeListener);
        watch(root);
        refresh();
        super.doStart();
    }

    @Override
    protected void doStop() throws Exception
    {
        super.doStop();
        root.removeEventListener(treeListener);
        for (ContextHandler context : contexts)
        {
            context.removeEventListener(contextListener);
        }
        contexts.clear();
        reported.clear();
        names = Names.NONE;
    }

    /** The root itself is never reported as a child: a server whose handler is a single context. */
    private void watch(Object bean)
    {
        if (bean instanceof ContextHandler context && contexts.add(context))
            context.addEventListener(contextListener);
    }

    private void unwatch(Object bean)
    {
        if (bean instanceof ContextHandler context && contexts.remove(context))
        {
            context.removeEventListener(contextListener);
            String prefix = reportKey(context, "");
            reported.removeIf(key -> key.startsWith(prefix));
        }
    }

    /** Rebuilds the snapshot from the started contexts. */
    private synchronized void refresh()
    {
        Set<String> exact = new HashSet<>();
        Set<String> wildcardParents = new HashSet<>();
        for (ContextHandler context : contexts)
        {
            if (!context.isStarted())
                continue;
            List<String> virtualHosts = context.getVirtualHosts();
            if (virtualHosts == null || virtualHosts.isEmpty())
            {
                report(context, null, "it has no virtualHosts: it answers every name but makes none hosted");
                continue;
            }
            for (String virtualHost : virtualHosts)
            {
                claim(context, virtualHost, exact, wildcardParents);
            }
        }
        Names previous = names;
        Names current = new Names(Set.copyOf(exact), Set.copyOf(wildcardParents));
        names = current;
        if (!previous.equals(current) && LOG.isInfoEnabled())
        {
            List<String> added = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            diff(previous.exact(), current.exact(), "", added, removed);
            diff(previous.wildcardParents(), current.wildcardParents(), "*.", added, removed);
            Collections.sort(added);
            Collections.sort(removed);
            LOG.info("Hosted names changed added={} removed={} hosted={}", added, removed, current.exact().size() + current.wildcardParents().size());
        }
    }

    private void claim(ContextHandler context, String virtualHost, Set<String> exact, Set<String> wildcardParents)
    {
        if (virtualHost == null || virtualHost.isBlank() || virtualHost.contains("@"))
        {
            report(context, virtualHost, "a virtual host bound to a connector names no host");
            return;
        }
        String name = virtualHost.trim().toLowerCase(Locale.ROOT);
        // Jetty reports *.example.com as .example.com
        boolean wildcard = name.startsWith("*.") || name.startsWith(".");
        if (wildcard)
        {
            String parent = HostNames.normalize(name.substring(name.indexOf('.') + 1));
            if (parent == null || parent.indexOf('.') < 0)
                report(context, virtualHost, "a wildcard needs a parent of at least two labels");
            else
                wildcardParents.add(parent);
            return;
        }
        String host = HostNames.normalize(name);
        if (host == null)
            report(context, virtualHost, "not a DNS host name (IP addresses are never hosted names)");
        else
            exact.add(host);
    }

    private void report(ContextHandler context, String virtualHost, String reason)
    {
        if (reported.add(reportKey(context, String.valueOf(virtualHost))))
            LOG.info("Context claims no hosted name context={} virtualHost={} reason={}", context.getDisplayName() == null ? context.getContextPath() : context.getDisplayName(), virtualHost, reason);
    }

    /** Each ignored entry is logged once per deployment of its context. */
    private static String reportKey(ContextHandler context, String virtualHost)
    {
        return System.identityHashCode(context) + "|" + virtualHost;
    }

    private static void diff(Set<String> before, Set<String> after, String prefix, List<String> added, List<String> removed)
    {
        for (String name : after)
        {
            if (!before.contains(name))
                added.add(prefix + name);
        }
        for (String name : before)
        {
            if (!after.contains(name))
                removed.add(prefix + name);
        }
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s, names=%d}", getClass().getSimpleName(), hashCode(), getState(), names.exact().size() + names.wildcardParents().size());
    }

    /** Sees contexts added to and removed from any container of the tree. */
    private class TreeListener implements Container.InheritedListener
    {
        @Override
        public void beanAdded(Container parent, Object child)
        {
            if (child instanceof ContextHandler)
            {
                watch(child);
                refresh();
            }
        }

        @Override
        public void beanRemoved(Container parent, Object child)
        {
            if (child instanceof ContextHandler)
            {
                unwatch(child);
                refresh();
            }
        }

        @Override
        public String toString()
        {
            return DeployedHostNames.this + ".tree";
        }
    }

    /** Every state change of a watched context: only started contexts claim names. */
    private class ContextListener implements LifeCycle.Listener
    {
        @Override
        public void lifeCycleStarted(LifeCycle event)
        {
            refresh();
        }

        @Override
        public void lifeCycleFailure(LifeCycle event, Throwable cause)
        {
            refresh();
        }

        @Override
        public void lifeCycleStopping(LifeCycle event)
        {
            refresh();
        }

        @Override
        public void lifeCycleStopped(LifeCycle event)
        {
            refresh();
        }

        @Override
        public String toString()
        {
            return DeployedHostNames.this + ".context";
        }
    }
}
