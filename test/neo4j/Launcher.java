import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
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
 *   <li>NEO4J_TEST_DELETE_HOME=1: delete HOME_DIR after shutdown (only for throw-away homes).</li>
 * </ul>
 * Prints exactly one line {@code NEO4J_READY bolt://127.0.0.1:PORT} on stdout once the
 * {@code neo4j} database is available, then blocks until the JVM is told to stop (SIGTERM /
 * SIGINT run the shutdown hook, which shuts the DBMS down).
 */
public final class Launcher {
    private static final String READY_PREFIX = "NEO4J_READY ";

    public static void main(String[] args) throws Exception {
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
        boolean deleteHome = "1".equals(env.get("NEO4J_TEST_DELETE_HOME"));
        if (authEnabled && password.length() < 8) {
            System.err.println("Launcher: the password must have at least 8 characters");
            System.exit(2);
        }
        Files.createDirectories(home);

        SocketAddress bolt = new SocketAddress("127.0.0.1", port);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, authEnabled)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Keep the footprint small: the page cache default is half the RAM.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(64))
                // Small, non-preallocated transaction logs, pruned to the latest one.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(16))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                dbms.shutdown();
            } catch (Throwable t) {
                System.err.println("Launcher: shutdown failed: " + t);
            } finally {
                if (deleteHome) {
                    deleteTree(home);
                }
                stopped.countDown();
            }
        }, "neo4j-test-shutdown"));

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
            }
        }

        String watch = env.get("NEO4J_TEST_WATCH_PID");
        if (watch != null && !watch.isBlank()) {
            watchParent(Long.parseLong(watch.trim()));
        }

        System.out.println(READY_PREFIX + "bolt://127.0.0.1:" + port);
        System.out.flush();

        // Block until the shutdown hook has run (i.e. until the process is told to stop).
        stopped.await();
    }

    private static void watchParent(long pid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            System.err.println("Launcher: watched process " + pid + " is gone; exiting");
            System.exit(1);
        }
        // Poll: the watched process is not our child, so there is nothing to wait on.
        // ProcessHandle.isAlive() also compares start times, which guards against pid reuse.
        Thread poll = new Thread(() -> {
            while (parent.get().isAlive()) {
                try {
                    Thread.sleep(Duration.ofSeconds(1).toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.err.println("Launcher: watched process " + pid + " is gone; shutting down");
            System.exit(0);
        }, "neo4j-test-watch-parent");
        poll.setDaemon(true);
        poll.start();
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("Launcher: could not delete " + root + ": " + e);
        }
    }

    private static String arg(String[] args, int i, String fallback) {
        return args.length > i && !args[i].isEmpty() ? args[i] : fallback;
    }
}
