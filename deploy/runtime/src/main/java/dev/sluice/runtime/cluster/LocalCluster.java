package dev.sluice.runtime.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * A real multi-process cluster on one machine, from the jars the build already has: a Flink session cluster (one
 * JobManager, two TaskManagers) and a three-broker Kafka KRaft cluster, every process on 127.0.0.1 with its own
 * log file under {@code dir}. The Flink processes carry Sluice's jars on their class path (parent-first), so jobs
 * are submitted without shipping jars and DJL's native library is loaded once per TaskManager, whatever restarts.
 */
public final class LocalCluster {

    /** The {@code --add-opens} part of {@code env.java.opts.all} in Flink 2.2's default config.yaml. */
    static final String FLINK_DEFAULT_JAVA_OPTS = "--add-opens=java.base/java.lang=ALL-UNNAMED "
            + "--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED "
            + "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED "
            + "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED "
            + "--add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED "
            + "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED "
            + "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED "
            + "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED";

    /** Process names, in start order. */
    public static final List<String> KAFKA = List.of("kafka-1", "kafka-2", "kafka-3");
    public static final List<String> FLINK = List.of("jobmanager", "taskmanager-1", "taskmanager-2");

    private final Path dir;
    private final int basePort;
    private final String classPath;
    private final boolean stock;
    private boolean allowSubmit;

    /** A cluster living in {@code dir}; its ports are {@code basePort} + small offsets (see {@link #describe}). */
    public LocalCluster(Path dir, int basePort) {
        this(dir, basePort, System.getProperty("java.class.path"), false);
    }

    private LocalCluster(Path dir, int basePort, String classPath, boolean stock) {
        this.dir = dir.toAbsolutePath();
        this.basePort = basePort;
        this.classPath = classPath;
        this.stock = stock;
    }

    /**
     * A Flink session cluster as a user downloads it: only the jars in {@code libs} (Flink's own, and whatever a
     * user adds to its lib/) on its class path, Flink's default child-first class loading and JVM options. Jobs
     * reach it as a job jar; start it with {@link #startFlink}.
     */
    public static LocalCluster stockFlink(Path dir, int basePort, List<Path> libs) {
        String classPath = String.join(File.pathSeparator,
                libs.stream().map(l -> l.toAbsolutePath() + File.separator + "*").toList());
        return new LocalCluster(dir, basePort, classPath, true);
    }

    /** Lets the Web UI accept jar uploads (off by default: any local user could run code in the cluster). */
    public LocalCluster allowSubmit(boolean allow) {
        this.allowSubmit = allow;
        return this;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + kafkaPort(1) + ",127.0.0.1:" + kafkaPort(2) + ",127.0.0.1:" + kafkaPort(3);
    }

    public String jobManager() {
        return "127.0.0.1:" + restPort();
    }

    int kafkaPort(int broker) {
        return basePort + broker;              // 1..3
    }

    int controllerPort(int broker) {
        return basePort + 10 + broker;         // 11..13
    }

    int restPort() {
        return basePort + 81;
    }

    public ObjectNode describe() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("dir", dir.toString());
        n.put("bootstrap_servers", bootstrapServers());
        n.put("jobmanager", jobManager());
        n.put("flink_web_ui", "http://" + jobManager());
        n.put("checkpoints", dir.resolve("checkpoints").toUri().toString());
        return n;
    }

    /** Starts every process not already running and waits until Kafka has 3 brokers and Flink 2 TaskManagers. */
    public void start() throws Exception {
        Files.createDirectories(dir.resolve("logs"));
        String clusterId = clusterId();
        for (int b = 1; b <= 3; b++) {
            Path props = writeBrokerConfig(b);
            Path logDir = dir.resolve("kafka-" + b + "-data");
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                run("kafka-format-" + b, List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props.toString(),
                        "--ignore-formatted"), List.of());
            }
            spawn("kafka-" + b, List.of("kafka.Kafka", props.toString()), List.of("-Xmx1g"));
        }
        launchFlink(2);
        awaitReady(Duration.ofSeconds(120));
    }

    /** Starts the Flink processes only (a JobManager and {@code taskManagers} TaskManagers) and waits for them. */
    public void startFlink(int taskManagers) throws Exception {
        Files.createDirectories(dir.resolve("logs"));
        launchFlink(taskManagers);
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (taskManagers() < taskManagers) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Flink not ready within 120 s: " + status() + "; logs in "
                        + dir.resolve("logs"));
            }
            Thread.sleep(500);
        }
    }

    private void launchFlink(int taskManagers) throws Exception {
        Path flinkConf = writeFlinkConfig();
        spawn("jobmanager", List.of("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                "--configDir", flinkConf.toString()), List.of("-Xmx1g"));
        List<String> tm = taskManagerResources(flinkConf);
        for (int t = 1; t <= taskManagers; t++) {
            List<String> args = new ArrayList<>(List.of("org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                    "--configDir", flinkConf.toString()));
            args.addAll(dynamicProperties(tm.get(1)));
            args.add("-Dtaskmanager.resource-id=taskmanager-" + t);
            spawn("taskmanager-" + t, args, List.of(tm.get(0).split(" ")));
        }
    }

    /** Stops every process: SIGTERM, a bounded wait, then SIGKILL (a lone KRaft controller can wait forever). */
    public void stop() throws IOException {
        List<String> all = new ArrayList<>(FLINK);
        all.addAll(List.of("kafka-3", "kafka-2", "kafka-1"));
        for (String name : all) {
            kill(name, false);
        }
    }

    /** Kills one process: gracefully, or at once (SIGKILL) to inject a failure. Returns whether it was running. */
    public boolean kill(String name, boolean now) throws IOException {
        Optional<ProcessHandle> p = process(name);
        if (p.isEmpty()) {
            return false;
        }
        if (now) {
            p.get().destroyForcibly();
        } else {
            p.get().destroy();
        }
        try {
            p.get().onExit().get(now ? 10 : 20, TimeUnit.SECONDS);
        } catch (Exception timeout) {
            p.get().destroyForcibly();
        }
        Files.deleteIfExists(pidFile(name));
        return true;
    }

    /** Starts one process again (e.g. a killed TaskManager or broker). */
    public void restart(String name) throws Exception {
        if (process(name).isPresent()) {
            return;
        }
        if (name.startsWith("kafka-")) {
            int b = Integer.parseInt(name.substring(6));
            spawn(name, List.of("kafka.Kafka", dir.resolve("conf/kafka-" + b + ".properties").toString()),
                    List.of("-Xmx1g"));
        } else if (name.startsWith("taskmanager-")) {
            Path flinkConf = dir.resolve("conf/flink");
            List<String> tm = taskManagerResources(flinkConf);
            List<String> args = new ArrayList<>(List.of("org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                    "--configDir", flinkConf.toString()));
            args.addAll(dynamicProperties(tm.get(1)));
            args.add("-Dtaskmanager.resource-id=" + name);
            spawn(name, args, List.of(tm.get(0).split(" ")));
        } else {
            throw new IllegalArgumentException("cannot restart " + name);
        }
    }

    public Optional<ProcessHandle> process(String name) throws IOException {
        Path pid = pidFile(name);
        if (!Files.exists(pid)) {
            return Optional.empty();
        }
        return ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).filter(ProcessHandle::isAlive);
    }

    /** Running processes, Kafka brokers seen by an admin client, TaskManagers registered with the JobManager. */
    public ObjectNode status() throws IOException {
        ObjectNode n = describe();
        ObjectNode procs = n.putObject("processes");
        for (String name : concat(KAFKA, FLINK)) {
            procs.put(name, process(name).map(p -> "running (pid " + p.pid() + ")").orElse("stopped"));
        }
        n.put("kafka_brokers", kafkaBrokers());
        n.put("flink_taskmanagers", taskManagers());
        return n;
    }

    void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (kafkaBrokers() == 3 && taskManagers() == 2) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("cluster not ready within " + timeout.toSeconds() + " s: " + status()
                + "; logs in " + dir.resolve("logs"));
    }

    int kafkaBrokers() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers());
        p.put("request.timeout.ms", "3000");
        p.put("default.api.timeout.ms", "3000");
        try (Admin admin = Admin.create(p)) {
            return admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
        } catch (Exception e) {
            return 0;
        }
    }

    int taskManagers() {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + jobManager() + "/overview")).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new ObjectMapper().readTree(r.body()).path("taskmanagers").asInt();
        } catch (Exception e) {
            return 0;
        }
    }

    private Path writeBrokerConfig(int b) throws IOException {
        Path conf = dir.resolve("conf/kafka-" + b + ".properties");
        Files.createDirectories(conf.getParent());
        StringBuilder voters = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            voters.append(i > 1 ? "," : "").append(i).append("@127.0.0.1:").append(controllerPort(i));
        }
        String props = String.join("\n",
                "process.roles=broker,controller",
                "node.id=" + b,
                "controller.quorum.voters=" + voters,
                "listeners=PLAINTEXT://127.0.0.1:" + kafkaPort(b) + ",CONTROLLER://127.0.0.1:" + controllerPort(b),
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + kafkaPort(b),
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dir.resolve("kafka-" + b + "-data"),
                "num.partitions=1",
                "default.replication.factor=3",
                "min.insync.replicas=2",
                "offsets.topic.replication.factor=3",
                "transaction.state.log.replication.factor=3",
                "transaction.state.log.min.isr=2",
                "transaction.max.timeout.ms=3600000",
                "message.max.bytes=" + (64 << 20),
                "replica.fetch.max.bytes=" + (64 << 20),
                "auto.create.topics.enable=false",
                "group.initial.rebalance.delay.ms=0",
                "");
        Files.writeString(conf, props);
        return conf;
    }

    private Path writeFlinkConfig() throws IOException {
        Path conf = dir.resolve("conf/flink");
        Files.createDirectories(conf);
        String yaml = String.join("\n",
                "jobmanager.rpc.address: 127.0.0.1",
                "jobmanager.rpc.port: " + (basePort + 70),
                "jobmanager.bind-host: 127.0.0.1",
                "jobmanager.memory.process.size: 1200m",
                "rest.address: 127.0.0.1",
                "rest.bind-address: 127.0.0.1",
                "rest.port: " + restPort(),
                // jar upload/run through the Web UI lets any local user run code in these processes: off unless
                // asked for (the stock cluster is there to take a job jar)
                "web.submit.enable: " + (stock || allowSubmit),
                "blob.server.port: " + (basePort + 71),
                "taskmanager.bind-host: 127.0.0.1",
                "taskmanager.host: 127.0.0.1",
                "taskmanager.rpc.port: " + (basePort + 72) + "-" + (basePort + 79),
                "taskmanager.data.port: 0",
                "taskmanager.numberOfTaskSlots: 4",
                // slots spread over the TaskManagers: a TrainJob's ranks run in separate processes, as on hosts
                "taskmanager.load-balance.mode: SLOTS",
                "taskmanager.memory.process.size: 3g",
                "taskmanager.memory.managed.size: 64m",
                "taskmanager.memory.network.min: 128m",
                "taskmanager.memory.network.max: 128m",
                "taskmanager.memory.task.off-heap.size: 512m",
                // Sluice's own processes load its jars parent-first (DJL's native library once per TaskManager);
                // a stock cluster keeps Flink's default, child-first, as jobs from a job jar expect.
                stock ? "classloader.resolve-order: child-first" : "classloader.resolve-order: parent-first",
                "execution.checkpointing.dir: " + dir.resolve("checkpoints").toUri(),
                "restart-strategy.type: fixed-delay",
                "restart-strategy.fixed-delay.attempts: 5",
                "restart-strategy.fixed-delay.delay: 2 s",
                "heartbeat.timeout: 10000",
                "heartbeat.interval: 2000",
                "metrics.fetcher.update-interval: 1000",
                // A stock cluster gets the opens of Flink's default config.yaml (Arrow needs java.nio's).
                stock ? "env.java.opts.all: " + FLINK_DEFAULT_JAVA_OPTS
                        : "env.java.opts.all: --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true",
                "");
        Files.writeString(conf.resolve("config.yaml"), yaml);
        return conf;
    }

    /** Flink's own computation of a TaskManager's JVM flags and resource options (what its scripts do). */
    private List<String> taskManagerResources(Path flinkConf) throws Exception {
        String out = run("tm-resources", List.of("org.apache.flink.runtime.util.bash.BashJavaUtils",
                "GET_TM_RESOURCE_PARAMS", "--configDir", flinkConf.toString()), List.of());
        List<String> lines = out.lines().filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
                .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length())).toList();
        if (lines.size() < 2) {
            throw new IllegalStateException("unexpected BashJavaUtils output: " + out);
        }
        return List.of(lines.get(0).trim(), lines.get(1).trim());
    }

    private static List<String> dynamicProperties(String line) {
        List<String> args = new ArrayList<>();
        for (String token : line.split(" ")) {
            if (!token.isBlank()) {
                args.add(token);
            }
        }
        return args;
    }

    private String clusterId() throws IOException {
        Path f = dir.resolve("conf/cluster-id");
        if (!Files.exists(f)) {
            Files.createDirectories(f.getParent());
            Files.writeString(f, org.apache.kafka.common.Uuid.randomUuid().toString());
        }
        return Files.readString(f).trim();
    }

    private List<String> java(List<String> jvmFlags, List<String> mainAndArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (stock) {
            cmd.addAll(List.of(FLINK_DEFAULT_JAVA_OPTS.split(" ")));
        } else {
            cmd.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
            cmd.add("-Dai.djl.offline=true");
        }
        cmd.add("-Dlog4j2.configurationFile=" + log4jConfig());
        cmd.addAll(jvmFlags);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.addAll(mainAndArgs);
        return cmd;
    }

    private String log4jConfig() {
        Path f = dir.resolve("conf/log4j2.properties");
        try {
            if (!Files.exists(f)) {
                Files.createDirectories(f.getParent());
                Files.writeString(f, String.join("\n",
                        "rootLogger.level = INFO",
                        "rootLogger.appenderRef.out.ref = out",
                        "appender.out.type = Console",
                        "appender.out.name = out",
                        "appender.out.layout.type = PatternLayout",
                        "appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5level %c{1} - %msg%n",
                        "logger.kafka.name = kafka",
                        "logger.kafka.level = WARN",
                        "logger.kafkaorg.name = org.apache.kafka",
                        "logger.kafkaorg.level = WARN",
                        ""));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return f.toString();
    }

    private void spawn(String name, List<String> mainAndArgs, List<String> jvmFlags) throws IOException {
        if (process(name).isPresent()) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder(java(jvmFlags, mainAndArgs));
        File log = dir.resolve("logs/" + name + ".log").toFile();
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log));
        pb.environment().putIfAbsent("LD_PRELOAD", tcmalloc());
        Process p = pb.start();
        Files.writeString(pidFile(name), Long.toString(p.pid()));
    }

    private static String tcmalloc() {
        String lib = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        return Files.exists(Path.of(lib)) ? lib : "";
    }

    private String run(String name, List<String> mainAndArgs, List<String> jvmFlags) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(java(jvmFlags, mainAndArgs)).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(name + " failed (exit " + p.exitValue() + "): " + out);
        }
        return out;
    }

    private Path pidFile(String name) {
        return dir.resolve(name + ".pid");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
