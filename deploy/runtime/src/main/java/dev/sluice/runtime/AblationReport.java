package dev.sluice.runtime;

import dev.sluice.trainer.StepMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * The ablation's page: one row per variant sorted by Δ bits-per-byte, and {@code ablation.png} with each variant's
 * loss and validation bits-per-byte curves (means over its seeds) and its final bits-per-byte against model FLOPs.
 */
final class AblationReport {

    private AblationReport() {}

    /** {@code curves}: per variant name, each seed's metrics. */
    static void write(Path dir, Ablation ablation, Map<String, List<List<StepMetrics>>> curves) throws IOException {
        BufferedImage png = Report.canvas(1500);
        Graphics2D g = png.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        Map<String, List<double[]>> loss = new LinkedHashMap<>();
        Map<String, List<double[]>> bpb = new LinkedHashMap<>();
        Map<String, List<double[]>> cost = new LinkedHashMap<>();
        for (Ablation.Row row : ablation.rows()) {
            List<List<StepMetrics>> seeds = curves.get(row.name());
            loss.put(row.name(), mean(seeds, m -> m.loss()));
            bpb.put(row.name(), mean(seeds, m -> m.valBpb()));
            cost.put(row.name(), List.of(new double[] {row.modelFlops(), row.valBpbMean()}));
        }
        Report.plot(g, 0, "training loss (nats/token)", "step", loss);
        Report.plot(g, 500, "validation bits per byte", "step", bpb);
        Report.plot(g, 1000, "final val bits/byte vs model FLOPs", "FLOPs", cost);
        g.dispose();
        ImageIO.write(png, "png", dir.resolve("ablation.png").toFile());

        StringBuilder rows = new StringBuilder();
        for (Ablation.Row r : ablation.rows()) {
            Map<String, Boolean> base = ablation.baseline().features();
            String on = r.features().entrySet().stream().filter(e -> !e.getValue().equals(base.get(e.getKey())))
                    .map(e -> e.getKey() + (e.getValue() ? " on" : " off")).reduce((x, y) -> x + ", " + y).orElse("—");
            rows.append(String.format(Locale.ROOT, "<tr><td style=\"text-align:left\">%s</td><td style=\"text-align:"
                            + "left\">%s</td><td>%,d</td><td>%,d</td><td>%.3g</td><td>%d</td><td><b>%.4f</b> ± %.4f</td>"
                            + "<td>%+.4f</td><td>%s</td><td>%.1f s</td><td><a href=\"%s\">%s/</a></td></tr>%n",
                    Report.esc(r.name()), Report.esc(on), r.params(), r.flopsPerToken(), r.modelFlops(), r.steps(),
                    r.valBpbMean(), r.valBpbStd(), r.deltaBpb(),
                    r.pValue() == null ? "—" : String.format(Locale.ROOT, "%.3g", r.pValue()), r.seconds(), r.dir(),
                    r.dir()));
        }
        String title = "Sluice ablation: " + ablation.config() + " (" + ablation.mode() + ", seeds "
                + ablation.seeds() + ")";
        String body = """
                <p>Every run read the same sequences in the same order (one topic, written once) with the same token
                budget, so bits-per-byte differences are per equal data; model FLOPs differ where features do.
                Δ against the baseline; p: Welch's two-sided t-test over the seeds (— with one seed).</p>
                <table><tr><th>variant</th><th>against the baseline</th><th>parameters</th><th>FLOPs/token</th><th>model FLOPs</th>
                <th>steps</th><th>val bits/byte (mean ± std)</th><th>Δ</th><th>p</th><th>training time</th>
                <th>runs</th></tr>
                %s</table>
                <p><img src="ablation.png" alt="loss, validation bits per byte, and bits per byte against FLOPs"></p>
                <p>Everything as JSON: <code>ablation.json</code>; each run's <code>results.json</code> (Marin's shape)
                and <code>metrics.jsonl</code> in <code>&lt;variant&gt;/seed-&lt;seed&gt;/</code>.</p>
                """.formatted(rows);
        Files.writeString(dir.resolve("report.html"), Report.page(title, body));
    }

    /** Per step, the mean over the seeds of {@code value} where every seed has one. */
    private static List<double[]> mean(List<List<StepMetrics>> seeds, java.util.function.Function<StepMetrics, Double> value) {
        Map<Integer, List<Double>> byStep = new TreeMap<>();
        for (List<StepMetrics> run : seeds) {
            for (StepMetrics m : run) {
                Double v = value.apply(m);
                if (v != null) {
                    byStep.computeIfAbsent(m.step() + 1, s -> new ArrayList<>()).add(v);
                }
            }
        }
        List<double[]> points = new ArrayList<>();
        byStep.forEach((step, values) -> {
            if (values.size() == seeds.size()) {
                points.add(new double[] {step, values.stream().mapToDouble(Double::doubleValue).average().orElseThrow()});
            }
        });
        return points;
    }
}
