package io.laai;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.jboss.logging.Logger;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * The service's start and stop order in one place. Start (StartupEvent priorities): settings
 * checked (every laai.* key, before anything opens) → embedded broker → topics → model →
 * registry → trainer → edge generation; Quarkus opens HTTP once start-up is done. Every part that opens
 * something registers its closer here, and stop runs them in reverse: generation drains (new
 * requests 503, running ones finish within laai.edge.drain-timeout) → trainer commits or abandons
 * its training → registry → model → Kafka clients and broker. A start that fails part-way never
 * fires ShutdownEvent, so the container's destruction of this bean closes what was opened: dev
 * mode's live reload then starts from nothing held (the broker's ports free again).
 */
@ApplicationScoped
public class Lifecycle {

    private static final Logger LOG = Logger.getLogger(Lifecycle.class);

    private record Opened(String name, AutoCloseable closer) {
    }

    private final Deque<Opened> opened = new ArrayDeque<>();

    @Inject
    LaaiConfig config;

    void checkSettings(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE - 100) StartupEvent event) {
        List<String> problems = ConfigCheck.problems(config, org.eclipse.microprofile.config.ConfigProvider.getConfig());
        if (!problems.isEmpty()) {
            throw new ConfigurationException(String.join("; ", problems));
        }
    }

    /** Registers what a part opened; it is closed before everything opened earlier. */
    public synchronized void opened(String name, AutoCloseable closer) {
        opened.push(new Opened(name, closer));
    }

    void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        closeAll();
    }

    @PreDestroy
    void destroyed() {
        closeAll();
    }

    /** Closes everything opened, newest first; one that fails is logged and the rest still close. Returns the names in order. */
    public List<String> closeAll() {
        List<String> closed = new ArrayList<>();
        while (true) {
            Opened o;
            synchronized (this) { // not held while closing: a closer may wait on a part that registers
                if (opened.isEmpty()) {
                    break;
                }
                o = opened.pop();
            }
            try {
                o.closer().close();
            } catch (Exception | LinkageError e) {
                LOG.errorf(e, "Closing %s failed", o.name());
            }
            closed.add(o.name());
        }
        if (!closed.isEmpty()) {
            LOG.infof("Stopped: %s", String.join(" → ", closed));
        }
        return closed;
    }
}
