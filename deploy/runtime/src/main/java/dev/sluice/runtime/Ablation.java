package dev.sluice.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.sluice.trainer.AblationPlan;
import dev.sluice.trainer.Flops;
import dev.sluice.trainer.job.Results;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.stat.inference.TTest;

/**
 * An ablation's outcome, {@code ablation.json}: the baseline and each variant with its cost (parameters, FLOPs)
 * and its final validation bits-per-byte over the seeds, the difference to the baseline and Welch's t-test of it.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Ablation(String config, String mode, List<Long> seeds, Row baseline, List<Row> variants) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * One variant. {@code pValue}: Welch's two-sided t-test of its bits-per-byte against the baseline's (absent with
     * fewer than two seeds, where there is no variance to test against); {@code seconds}: mean training time.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Row(String name, String dir, Map<String, Boolean> features, long params, long flopsPerToken,
                      double modelFlops, int steps, long tokens, List<Double> valBpb, double valBpbMean,
                      double valBpbStd, double deltaBpb, Double pValue, double seconds) {}

    /** The rows of {@code plan} from each run's results, in the plan's order of seeds. */
    static Ablation of(AblationPlan plan, Map<AblationPlan.Variant, List<Results>> results) {
        Row baseline = row(plan.baseline(), results.get(plan.baseline()), null);
        List<Row> variants = new ArrayList<>();
        for (AblationPlan.Variant v : plan.variants()) {
            variants.add(row(v, results.get(v), baseline));
        }
        variants.sort(Comparator.comparingDouble(Row::deltaBpb));
        return new Ablation(plan.config().name(), plan.mode().name().toLowerCase(java.util.Locale.ROOT),
                plan.seedValues(), baseline, variants);
    }

    private static Row row(AblationPlan.Variant v, List<Results> runs, Row baseline) {
        double[] bpb = runs.stream().mapToDouble(r -> r.info().evalBpb()).toArray();
        double mean = java.util.Arrays.stream(bpb).average().orElse(Double.NaN);
        double std = bpb.length < 2 ? 0 : Math.sqrt(java.util.Arrays.stream(bpb).map(x -> (x - mean) * (x - mean))
                .sum() / (bpb.length - 1));
        Results.RunInfo first = runs.get(0).info();
        Double p = baseline == null ? null : welch(java.util.Arrays.stream(bpb).boxed().toList(), baseline.valBpb());
        return new Row(v.name(), v.dir(), v.features(), v.config().parameters(), Flops.perToken(v.config()),
                first.modelFlops(), first.steps(), first.totalTokens(), java.util.Arrays.stream(bpb).boxed().toList(),
                mean, std, baseline == null ? 0 : mean - baseline.valBpbMean(), p,
                runs.stream().mapToDouble(r -> r.info().trainingTime()).average().orElse(0));
    }

    /**
     * Welch's two-sided t-test of two samples' bits-per-byte: absent with fewer than two values on either side, or
     * when neither varies (there is nothing to test against).
     */
    public static Double welch(List<Double> a, List<Double> b) {
        if (a.size() < 2 || b.size() < 2) {
            return null;
        }
        double p = new TTest().tTest(a.stream().mapToDouble(Double::doubleValue).toArray(),
                b.stream().mapToDouble(Double::doubleValue).toArray());
        return Double.isNaN(p) ? null : p;
    }

    /** The baseline, then the variants by Δ. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>(List.of(baseline));
        rows.addAll(variants);
        return rows;
    }

    public static Path file(Path dir) {
        return dir.resolve("ablation.json");
    }

    void write(Path dir) throws IOException {
        JSON.writeValue(file(dir).toFile(), this);
    }

    public static Ablation read(Path dir) throws IOException {
        return JSON.readValue(file(dir).toFile(), Ablation.class);
    }
}
