package dev.sluice.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where this process's CPU goes while a job runs: every thread's CPU time from {@code /proc/self/task} (Linux),
 * grouped by what the thread does. /proc and not ThreadMXBean, because the JIT and GC threads are not Java threads;
 * polled, because Flink's task threads end with the job.
 */
final class ThreadCpu {

    /** Thread-name prefixes (as /proc shows them: the first 15 characters) and the component they belong to. */
    private static final List<Map.Entry<String, String>> GROUPS = List.of(
            Map.entry("Source Data Fet", "read shards (inflate, JSON)"),
            Map.entry("Source: ", "tokenize (chained to the readers)"),
            Map.entry("pack", "pack"),
            Map.entry("sample", "sample, shuffle, Arrow, sink"),
            Map.entry("kafka-producer", ThreadCpu.KAFKA_PRODUCER),
            Map.entry("C1 CompilerThre", ThreadCpu.JIT),
            Map.entry("C2 CompilerThre", ThreadCpu.JIT),
            Map.entry(ThreadCpu.REFERENCE_PREFIX, ThreadCpu.REFERENCE),
            Map.entry("GC Thread", "GC"),
            Map.entry("G1 ", "GC"));
    private static final List<String> BROKER = List.of("data-plane", "kafka-", "broker-", "controller-",
            "group-coordinat", "share-", "transaction-", "raft-", "quorum-", "TxnMarker", "AddPartitions",
            "ExpirationReape", "LogDirFailure", "persister", "PersisterState", "client-metrics", "SensorExpiry");
    static final String REFERENCE_PREFIX = "reference-";
    static final String REFERENCE = "reference threads (read, tokenize, send)";
    static final String JIT = "JIT compiler";
    static final String KAFKA_BROKER = "Kafka broker (in-process)";
    static final String KAFKA_PRODUCER = "Kafka producer";
    static final String OTHER = "other (Flink runtime, checkpoints, metrics, VM)";
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final double TICKS_PER_SECOND = 100; // USER_HZ; Linux fixes it at 100 for /proc

    private record Seen(String name, long first, long last) {}

    private final Map<String, Seen> threads = new HashMap<>();
    private final long startProcessTicks;
    private final long startNanos = System.nanoTime();
    private final Thread poller;
    private volatile boolean running = true;

    private ThreadCpu() {
        startProcessTicks = processTicks();
        poll(true);
        poller = new Thread(() -> {
            while (running) {
                poll(false);
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "thread-cpu-poll");
        poller.setDaemon(true);
        poller.start();
    }

    /** Starts watching, or returns null where there is no /proc (the bench then prints no breakdown). */
    static ThreadCpu startIfAvailable() {
        return Files.isDirectory(TASKS) ? new ThreadCpu() : null;
    }

    /** CPU seconds per component, largest first, over {@code seconds} of wall time; {@code total} is the process's. */
    record Breakdown(double seconds, Map<String, Double> cpuSeconds, double total) {

        double cores(String component) {
            return cpuSeconds.getOrDefault(component, 0.0) / seconds;
        }
    }

    /** Stops watching and returns where the CPU went since the start. */
    Breakdown stop() {
        running = false;
        poller.interrupt();
        try {
            poller.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        poll(false);
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        Map<String, Double> cpu = new HashMap<>();
        long seenTicks = 0;
        synchronized (threads) {
            for (Seen s : threads.values()) {
                if (!s.name().equals(poller.getName())) {
                    cpu.merge(component(s.name()), (s.last() - s.first()) / TICKS_PER_SECOND, Double::sum);
                    seenTicks += s.last() - s.first();
                }
            }
        }
        long total = processTicks() - startProcessTicks;
        // Threads that ended between two polls took their last ≤ 0.2 s with them; the process total still has it.
        cpu.merge(OTHER, Math.max(0, total - seenTicks) / TICKS_PER_SECOND, Double::sum);
        Map<String, Double> sorted = new LinkedHashMap<>();
        cpu.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return new Breakdown(seconds, sorted, total / TICKS_PER_SECOND);
    }

    static String component(String thread) {
        for (Map.Entry<String, String> g : GROUPS) {
            if (thread.startsWith(g.getKey())) {
                return g.getValue();
            }
        }
        for (String prefix : BROKER) {
            if (thread.startsWith(prefix)) {
                return KAFKA_BROKER;
            }
        }
        return OTHER;
    }

    private void poll(boolean baseline) {
        try (Stream<Path> tasks = Files.list(TASKS)) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String tid = task.getFileName().toString();
                try {
                    String name = Files.readString(task.resolve("comm")).strip();
                    long ticks = ticks(Files.readString(task.resolve("stat")));
                    synchronized (threads) {
                        Seen old = threads.get(tid);
                        // a thread born after the start counts from zero; one alive at the start from its baseline
                        boolean same = old != null && old.name().equals(name); // else a new thread reusing the id
                        long first = same ? old.first() : baseline ? ticks : 0;
                        threads.put(tid, new Seen(name, first, ticks));
                    }
                } catch (IOException e) {
                    // the thread ended while we looked at it
                }
            }
        } catch (IOException e) {
            // /proc vanished: nothing more to learn
        }
    }

    private static long processTicks() {
        try {
            return ticks(Files.readString(Path.of("/proc/self/stat")));
        } catch (IOException e) {
            return 0;
        }
    }

    /** utime + stime of a /proc stat line (fields 14 and 15; the name in parentheses may contain spaces). */
    private static long ticks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
