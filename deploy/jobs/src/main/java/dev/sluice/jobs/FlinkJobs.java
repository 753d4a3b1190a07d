package dev.sluice.jobs;

import dev.sluice.connectors.kafka.KafkaTopics;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.pipeline.TokenizeJob;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.job.TrainJob;
import dev.sluice.trainer.job.TrainJobConfig;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The jobs as a Flink program's {@code main}, for clusters that run the program themselves (the Kubernetes
 * Operator's application mode, {@code flink run}): the environment is whatever Flink provides.
 *
 * <pre>
 * tokenize &lt;pipeline.yaml&gt; &lt;bootstrap servers&gt;
 * train    &lt;speedrun.yaml&gt; &lt;train topic&gt; &lt;val topic&gt; &lt;bootstrap servers&gt; &lt;out dir&gt;
 * </pre>
 */
public final class FlinkJobs {

    private FlinkJobs() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: tokenize <pipeline.yaml> <bootstrap> | train <speedrun.yaml> "
                    + "<train topic> <val topic> <bootstrap> <out dir>");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        switch (args[0]) {
            case "tokenize" -> {
                PipelineConfig config = PipelineConfig.load(Path.of(args[1]));
                TokenizeJob job = new TokenizeJob(config);
                Properties kafka = kafka(config.kafka().properties(), args[2]);
                KafkaTopics.prepare(kafka, job.topics(), config.partitions(), KafkaTopics.defaultReplication(kafka),
                        false);
                job.build(env, kafka);
                env.execute("sluice tokenize " + config.dataset() + " (" + config.tokenizer() + ")");
            }
            case "train" -> {
                SpeedrunConfig speedrun = SpeedrunConfig.load(Path.of(args[1]));
                var config = new TrainJobConfig(speedrun, args[2], args[3], args[5], 60_000, false, 0);
                TrainJob job = new TrainJob(config);
                Properties kafka = kafka(java.util.Map.of(), args[4]);
                job.preflight(kafka);
                job.build(env, kafka);
                env.execute("sluice train " + speedrun.name() + " on " + config.trainTopic());
            }
            default -> throw new IllegalArgumentException("unknown job '" + args[0] + "'; known: tokenize, train");
        }
    }

    private static Properties kafka(java.util.Map<String, String> extra, String bootstrap) {
        Properties p = new Properties();
        p.putAll(extra);
        p.put("bootstrap.servers", bootstrap);
        return p;
    }
}
