package dev.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ThreadCpuTest {

    @Test
    void namesTheComponentOfFlinkKafkaAndJvmThreads() {
        assertEquals("tokenize (chained to the readers)", ThreadCpu.component("Source: corpus:"));
        assertEquals("read shards (inflate, JSON)", ThreadCpu.component("Source Data Fet"));
        assertEquals("Kafka producer", ThreadCpu.component("kafka-producer-"));
        assertEquals("Kafka broker (in-process)", ThreadCpu.component("kafka-scheduler"));
        assertEquals("Kafka broker (in-process)", ThreadCpu.component("data-plane-kafk"));
        assertEquals("JIT compiler", ThreadCpu.component("C2 CompilerThre"));
        assertEquals(ThreadCpu.REFERENCE, ThreadCpu.component("reference-1"));
        assertEquals(ThreadCpu.OTHER, ThreadCpu.component("flink-pekko.act"));
    }

    /** A thread named like a packer burns a known amount of CPU; the breakdown must put it under "pack". */
    @Test
    void attributesAThreadsCpuTimeToItsComponent() throws Exception {
        ThreadCpu cpu = ThreadCpu.startIfAvailable();
        assertNotNull(cpu, "this test runs on Linux, where /proc/self/task exists");
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        CountDownLatch burnt = new CountDownLatch(1);
        CountDownLatch measured = new CountDownLatch(1);
        long[] burntNanos = new long[1];
        Thread packer = new Thread(() -> {
            long x = 0;
            while (mx.getCurrentThreadCpuTime() < 400_000_000L) {
                for (int i = 0; i < 100_000; i++) {
                    x = x * 6364136223846793005L + i;
                }
            }
            burntNanos[0] = mx.getCurrentThreadCpuTime() + (x == 42 ? 1 : 0); // reads x, so the JIT keeps the loop
            burnt.countDown();
            try {
                measured.await(); // stay alive: the breakdown reads a thread's last figure from /proc
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "pack (test)");
        packer.start();
        burnt.await();
        ThreadCpu.Breakdown b = cpu.stop();
        measured.countDown();
        packer.join();

        double packSeconds = b.cpuSeconds().getOrDefault("pack", 0.0);
        double expected = burntNanos[0] / 1e9;
        assertTrue(Math.abs(packSeconds - expected) <= 0.05, "pack " + packSeconds + " s, burnt " + expected + " s");
        assertTrue(b.total() >= packSeconds, "the process total includes every thread");
    }
}
