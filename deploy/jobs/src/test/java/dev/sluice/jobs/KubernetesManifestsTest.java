package dev.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sluice.contract.config.YamlConfig;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every manifest in deploy/kubernetes parses, and the Flink and Kafka resources agree with the job configs. */
class KubernetesManifestsTest {

    static final Path DIR = Path.of("../kubernetes");
    static List<JsonNode> docs = new ArrayList<>();
    static PipelineConfig pipeline;
    static SpeedrunConfig speedrun;

    @BeforeAll
    static void parse() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<Path> files;
        try (Stream<Path> s = Files.list(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 4, "manifests: " + files);
        for (Path f : files) {
            try (var parser = yaml.getFactory().createParser(f.toFile())) {
                var it = yaml.readValues(parser, JsonNode.class);
                while (it.hasNext()) {
                    JsonNode d = it.next();
                    assertTrue(d.has("apiVersion") && d.has("kind") && d.path("metadata").has("name"), f + ": " + d);
                    docs.add(d);
                }
            }
        }
        JsonNode cm = find("ConfigMap", "sluice-configs");
        pipeline = YamlConfig.parse(cm.get("data").get("pipeline.yaml").asText(), PipelineConfig.class);
        speedrun = SpeedrunConfig.parse(cm.get("data").get("speedrun.yaml").asText());
    }

    static JsonNode find(String kind, String name) {
        return docs.stream().filter(d -> d.get("kind").asText().equals(kind)
                && d.get("metadata").get("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    @Test
    void kafkaTopicsAreTheOnesThePipelineWritesReplicatedThreeTimes() {
        for (String name : pipeline.data().topics()) {
            JsonNode topic = find("KafkaTopic", name);
            assertEquals(pipeline.partitions(), topic.get("spec").get("partitions").asInt());
            assertEquals(3, topic.get("spec").get("replicas").asInt());
            assertEquals("sluice", topic.get("metadata").get("labels").get("strimzi.io/cluster").asText());
        }
        JsonNode kafka = find("Kafka", "sluice");
        assertEquals(pipeline.kafka().bootstrapServers(), kafka.get("metadata").get("name").asText()
                + "-kafka-bootstrap." + kafka.get("metadata").get("namespace").asText() + ".svc:9092");
        assertEquals(3, find("KafkaNodePool", "dual-role").get("spec").get("replicas").asInt());
    }

    @Test
    void theTokenizeJobRunsThePipelineConfigWithItsParallelism() throws Exception {
        JsonNode job = find("FlinkDeployment", "sluice-tokenize").get("spec");
        assertEquals(SluiceJob.class.getName(), job.get("job").get("entryClass").asText());
        PipelineOptions options = ((SluiceJob.Tokenize) parse(job, "tokenize")).options;
        assertEquals(Path.of("/opt/sluice/configs/pipeline.yaml"), options.config);
        assertEquals(pipeline.kafka().bootstrapServers(), options.kafka.bootstrapServers(null));
        assertEquals(pipeline.parallelism(), job.get("job").get("parallelism").asInt());
        assertTrue(mounts(job).contains("/opt/sluice/configs"));
    }

    @Test
    void theTrainJobHasOneTrainerPerGpuOnThePipelinesTopics() throws Exception {
        JsonNode job = find("FlinkDeployment", "sluice-train").get("spec");
        assertEquals(SluiceJob.class.getName(), job.get("job").get("entryClass").asText());
        TrainOptions options = ((SluiceJob.Train) parse(job, "train")).options;
        assertEquals(Path.of("/opt/sluice/configs/speedrun.yaml"), options.config);
        assertEquals(pipeline.kafka().bootstrapServers(), options.kafka.bootstrapServers(null));
        assertEquals(1, job.get("job").get("parallelism").asInt());
        assertEquals("1", job.get("flinkConfiguration").get("taskmanager.numberOfTaskSlots").asText());
        JsonNode gpu = job.get("taskManager").get("podTemplate").get("spec").get("containers").get(0)
                .get("resources").get("limits").get("nvidia.com/gpu");
        assertEquals(job.get("taskManager").get("replicas").asInt(), gpu.asInt(), "one GPU per trainer");
        JsonNode env = job.get("taskManager").get("podTemplate").get("spec").get("containers").get(0).get("env");
        assertEquals(speedrun.train().tf32() ? "1" : "0", java.util.stream.StreamSupport.stream(env.spliterator(), false)
                .filter(e -> e.get("name").asText().equals(dev.sluice.trainer.Devices.TF32_VARIABLE)).findFirst()
                .orElseThrow().get("value").asText(), "the trainer's check of train.tf32 passes");
        assertTrue(speedrun.train().device().startsWith("gpu"), speedrun.train().device());
        assertEquals(SpeedrunConfig.load(Path.of("../../configs/speedrun/150m.yaml")), speedrun,
                "the ConfigMap's speedrun is the shipped 150m config");
        // dataset, tokenizer and seq_len: the trainer reads exactly the topics the pipeline writes
        assertEquals(pipeline.data(), new TrainJobConfig(speedrun.withDataset(options.dataset), "/runs", 1, false).data());
    }

    @Test
    void the460mTrainsOnTwoGpusOfOneTaskManagerAsMarinRanIt() throws Exception {
        JsonNode job = find("FlinkDeployment", "sluice-train-460m").get("spec");
        TrainOptions options = ((SluiceJob.Train) parse(job, "train")).options;
        assertEquals(Path.of("/opt/sluice/configs/speedrun-460m.yaml"), options.config);
        SpeedrunConfig config = configMapSpeedrun("speedrun-460m.yaml");
        assertEquals(SpeedrunConfig.load(Path.of("../../configs/speedrun/460m.yaml")), config,
                "the ConfigMap's 460m is the shipped config");
        assertEquals(List.of(dev.sluice.trainer.Devices.ALL_GPUS), config.train().devices(), "a replica per GPU");
        // one trainer (DJL: one gradient collector per JVM) in one slot of a TaskManager that owns both cards
        assertEquals(1, job.get("job").get("parallelism").asInt());
        assertEquals(1, job.get("taskManager").get("replicas").asInt());
        JsonNode flink = job.get("flinkConfiguration");
        assertEquals("1", flink.get("taskmanager.numberOfTaskSlots").asText());
        assertEquals("gpu", flink.get("external-resources").asText());
        assertEquals("nvidia.com/gpu", flink.get("external-resource.gpu.kubernetes.config-key").asText());
        int gpus = job.get("taskManager").get("podTemplate").get("spec").get("containers").get(0)
                .get("resources").get("limits").get("nvidia.com/gpu").asInt();
        assertEquals(2, gpus, "Marin's 460m: two H100s");
        assertEquals(gpus, flink.get("external-resource.gpu.amount").asInt(), "Flink asks for what the pod states");
        assertEquals(find("FlinkDeployment", "sluice-train").get("spec").get("flinkConfiguration")
                .get("classloader.parent-first-patterns.additional"), flink.get("classloader.parent-first-patterns.additional"));
        assertEquals(pipeline.data(), new TrainJobConfig(config.withDataset(options.dataset), "/runs", 1, false).data());
    }

    @Test
    void the460mOnTwoRanksHasOneGpuPodPerRankAndFailsADeadRankBeforeFlinkKillsItsTaskManager() throws Exception {
        JsonNode job = find("FlinkDeployment", "sluice-train-460m-ranks").get("spec");
        TrainOptions options = ((SluiceJob.Train) parse(job, "train")).options;
        assertEquals(Path.of("/opt/sluice/configs/speedrun-460m.yaml"), options.config);
        SpeedrunConfig speedrun = configMapSpeedrun("speedrun-460m.yaml");
        // refuses ranks between which the config's batches cannot be split equally
        TrainJobConfig config = new TrainJobConfig(speedrun.withDataset(options.dataset), "/runs", 1, false,
                options.ranks);
        assertEquals(2, config.ranks());
        assertEquals(config.ranks(), job.get("job").get("parallelism").asInt(), "one trainer subtask per rank");
        assertEquals(config.ranks(), job.get("taskManager").get("replicas").asInt(), "a pod per rank");
        JsonNode flink = job.get("flinkConfiguration");
        assertEquals("1", flink.get("taskmanager.numberOfTaskSlots").asText());
        JsonNode container = job.get("taskManager").get("podTemplate").get("spec").get("containers").get(0);
        assertEquals(1, container.get("resources").get("limits").get("nvidia.com/gpu").asInt());
        assertEquals(1, flink.get("external-resource.gpu.amount").asInt());
        List<String> env = new ArrayList<>();
        container.get("env").forEach(e -> env.add(e.get("name").asText() + "=" + e.path("valueFrom").path("fieldRef")
                .path("fieldPath").asText(e.path("value").asText())));
        assertTrue(env.contains("SLUICE_RANK_HOST=status.podIP"), "each rank listens on its pod's IP: " + env);
        long cancellation = Long.parseLong(flink.get("task.cancellation.timeout").asText().replace(" s", ""));
        assertTrue(options.rankTimeoutSeconds < cancellation, "a dead rank fails the job before Flink's watchdog");
        assertTrue(mounts(job).stream().anyMatch(m -> options.rankStoreDir.startsWith(m + "/")),
                "the ranks meet on the shared volume: " + options.rankStoreDir);
        assertEquals(find("FlinkDeployment", "sluice-train").get("spec").get("flinkConfiguration")
                .get("classloader.parent-first-patterns.additional"), flink.get("classloader.parent-first-patterns.additional"));
    }

    @Test
    void theImageHasTheJarTheDeploymentsRun() throws Exception {
        String script = Files.readString(DIR.resolve("build-image.sh"));
        for (String name : List.of("sluice-tokenize", "sluice-train", "sluice-train-460m", "sluice-train-460m-ranks")) {
            String jar = find("FlinkDeployment", name).get("spec").get("job").get("jarURI").asText();
            assertEquals("local:///opt/flink/usrlib/sluice-job.jar", jar);
            assertTrue(script.contains("cp deploy/jobs/target/sluice-job.jar \"$ctx/usrlib/sluice-job.jar\""), script);
            assertTrue(script.contains("COPY usrlib/ /opt/flink/usrlib/"), script);
        }
        assertTrue(script.contains("libgloo0"), "the ranks' Gloo bindings need Gloo's library: " + script);
    }

    /** A speedrun config as the ConfigMap ships it to the pods. */
    static SpeedrunConfig configMapSpeedrun(String key) {
        return SpeedrunConfig.parse(find("ConfigMap", "sluice-configs").get("data").get(key).asText());
    }

    /** The deployment's args as the job jar's main parses them: an unknown or malformed option fails here. */
    static Object parse(JsonNode spec, String job) {
        List<String> args = new ArrayList<>();
        spec.get("job").get("args").forEach(a -> args.add(a.asText()));
        assertEquals(job, args.get(0));
        var parsed = new CommandLine(new SluiceJob()).parseArgs(args.toArray(String[]::new));
        return parsed.subcommand().commandSpec().userObject();
    }

    static List<String> mounts(JsonNode spec) {
        List<String> paths = new ArrayList<>();
        spec.get("podTemplate").get("spec").get("containers").get(0).get("volumeMounts")
                .forEach(m -> paths.add(m.get("mountPath").asText()));
        return paths;
    }
}
