import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;

/**
 * Embedded Neo4j Community DBMS with a Bolt connector on 127.0.0.1, for integration tests.
 *
 * <pre>
 *   java [jvm flags] -cp 'classes:lib/*' Launcher PORT HOME_DIR [PASSWORD]
 * </pre>
 *
 * Each argument may instead come from the environment: NEO4J_TEST_PORT, NEO4J_TEST_HOME,
 * NEO4J_TEST_PASSWORD (prefer the env var for the password: it keeps it out of `ps`).
 * Without a password, auth is disabled. Optional environment:
 * <ul>
 *   <li>NEO4J_TEST_WATCH_PID: exit (cleanly) when that process goes away, so a killed test
 *       runner never leaves a server behind;</li>
 *   <li>NEO4J_TEST_DELETE_ON_EXIT=DIR: delete DIR (the throw-away home, or a folder holding it)
 *       after a shutdown that follows a successful start.</li>
 * </ul>
 * Prints exactly one line {@code NEO4J_READY bolt://127.0.0.1:PORT} on stdout once the
 * {@code neo4j} database is available, then blocks until the JVM is told to stop (SIGTERM /
 * SIGINT run the shutdown hook, which shuts the DBMS down).
 */
public final class Launcher {
    private static final String READY_PREFIX = "NEO4J_READY ";
    private static volatile boolean ready;
    private static volatile boolean orphaned;

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            // Neo4j's non-daemon threads would otherwise keep a half-started JVM alive.
            System.err.println("Launcher: failed to start Neo4j");
            t.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        String portArg = arg(args, 0, env.get("NEO4J_TEST_PORT"));
        String homeArg = arg(args, 1, env.get("NEO4J_TEST_HOME"));
        String password = arg(args, 2, env.get("NEO4J_TEST_PASSWORD"));
        if (portArg == null || homeArg == null) {
            System.err.println("usage: Launcher PORT HOME_DIR [PASSWORD]"
                    + " (or NEO4J_TEST_PORT / NEO4J_TEST_HOME / NEO4J_TEST_PASSWORD)");
            System.exit(2);
        }
        int port = Integer.parseInt(portArg.trim());
        Path home = Path.of(homeArg).toAbsolutePath();
        boolean authEnabled = password != null && !password.isEmpty();
        String deleteOnExit = env.get("NEO4J_TEST_DELETE_ON_EXIT");
        if (authEnabled && password.length() < 8) {
            System.err.println("Launcher: the password must have at least 8 characters");
            System.exit(2);
        }
        Files.createDirectories(home);

        // Watch from the start, so that a caller killed while we boot takes us down too.
        String watch = env.get("NEO4J_TEST_WATCH_PID");
        if (watch != null && !watch.isBlank()) {
            watchParent(Long.parseLong(watch.trim()));
        }

        // Registered before the build, so that an exit while booting still cleans up.
        AtomicReference<DatabaseManagementService> started = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                DatabaseManagementService service = started.get();
                if (service != null) {
                    service.shutdown();
                }
            } catch (Throwable t) {
                System.err.println("Launcher: shutdown failed: " + t);
            } finally {
                // After a failed start keep the home (its logs) for the caller to show,
                // unless the caller is gone.
                if (deleteOnExit != null && !deleteOnExit.isEmpty() && (ready || orphaned)) {
                    deleteTree(Path.of(deleteOnExit));
                }
                stopped.countDown();
            }
        }, "neo4j-test-shutdown"));

        SocketAddress bolt = new SocketAddress("127.0.0.1", port);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                // The Bolt server otherwise waits 5 s + 5 s on shutdown for connections/threads.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(GraphDatabaseSettings.auth_enabled, authEnabled)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Keep the footprint small: the page cache default is half the RAM.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(64))
                // Small, non-preallocated transaction logs, pruned to the latest one.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(16))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                .build();
        started.set(dbms);

        GraphDatabaseService db = dbms.database("neo4j");
        if (!db.isAvailable(TimeUnit.MINUTES.toMillis(2))) {
            System.err.println("Launcher: database 'neo4j' did not become available");
            System.exit(1);
        }
        if (authEnabled) {
            GraphDatabaseService system = dbms.database("system");
            try (Transaction tx = system.beginTx()) {
                tx.execute("ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
                tx.commit();
            } catch (RuntimeException e) {
                // A restart on an existing home: the password is already this one, and Neo4j refuses to set the
                // same password twice. Anything else is a real failure.
                String message = String.valueOf(e.getMessage());
                if (!message.contains("Old password and new password cannot be the same")) throw e;
            }
        }

        ready = true;
        System.out.println(READY_PREFIX + "bolt://127.0.0.1:" + port);
        System.out.flush();

        // Block until the shutdown hook has run (i.e. until the process is told to stop).
        stopped.await();
    }

    private static void watchParent(long pid) {
        Optional<ProcessHandle> watched = ProcessHandle.of(pid);
        if (watched.isEmpty() || !watched.get().isAlive()) {
            System.err.println("Launcher: watched process " + pid + " is gone; exiting");
            orphaned = true;
            System.exit(1);
        }
        // If it is our parent, watch for being re-parented: that happens the moment it dies, while
        // isAlive() stays true for as long as it is an unreaped zombie. Otherwise poll isAlive()
        // (which compares start times, so a reused pid does not fool it).
        boolean isParent = parentPid() == pid;
        Thread poll = new Thread(() -> {
            while (isParent ? parentPid() == pid : watched.get().isAlive()) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.err.println("Launcher: watched process " + pid + " is gone; shutting down");
            orphaned = true;
            System.exit(0);
        }, "neo4j-test-watch-parent");
        poll.setDaemon(true);
        poll.start();
    }

    private static long parentPid() {
        return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
    }

    // No anonymous classes here: Launcher.class stays the only class file, all loaded at start,
    // so recompiling the launcher under a running server cannot break its shutdown.
    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    System.err.println("Launcher: could not delete " + p + ": " + e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("Launcher: could not delete " + root + ": " + e);
        }
    }

    private static String arg(String[] args, int i, String fallback) {
        return args.length > i && !args[i].isEmpty() ? args[i] : fallback;
    }
}
