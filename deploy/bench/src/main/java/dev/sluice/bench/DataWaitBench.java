package dev.sluice.bench;

import dev.sluice.contract.config.SluiceHome;
import dev.sluice.jobs.Speedruns;
import dev.sluice.pipeline.PipelineConfig;
import dev.sluice.runtime.Infrastructure;
import dev.sluice.runtime.SpeedrunRunner;
import dev.sluice.trainer.MetricsLog;
import dev.sluice.trainer.SpeedrunConfig;
import dev.sluice.trainer.StepMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The data-wait fraction (time the trainer waited for input ÷ step time) while the TokenizeJob runs at the same
 * time on the same machine: the figure that shows whether the stream keeps up with training.
 */
public final class DataWaitBench {

    private DataWaitBench() {}

    public static int run(Path configPath) throws Exception {
        SpeedrunConfig c = SpeedrunConfig.load(Speedruns.resolve(configPath));
        PipelineConfig data = PipelineConfig.load(SluiceHome.dir().resolve("configs/pipeline-demo.yaml"));
        Path out = Files.createTempDirectory("sluice-datawait-");
        try (Infrastructure infra = Infrastructure.builder().slots(12).start()) {
            new SpeedrunRunner(c, data, out, 20_000).run(infra, System.err);
        }
        List<StepMetrics> metrics = MetricsLog.read(out);
        double sum = 0;
        double first = 0;
        int firstN = Math.min(10, metrics.size());
        double max = 0;
        for (int i = 0; i < metrics.size(); i++) {
            double w = metrics.get(i).dataWaitFraction();
            sum += w;
            max = Math.max(max, w);
            first += i < firstN ? w : 0;
        }
        System.out.printf(Locale.ROOT, "config %s, %d steps, pipeline and trainer in one JVM on this machine%n",
                c.name(), metrics.size());
        System.out.printf(Locale.ROOT, "data-wait fraction: mean %.4f, first %d steps %.4f (step 1 includes job start), "
                + "max %.4f%n", sum / metrics.size(), firstN, first / firstN, max);
        return 0;
    }
}
