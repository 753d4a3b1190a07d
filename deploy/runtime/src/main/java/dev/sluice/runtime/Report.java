package dev.sluice.runtime;

import dev.sluice.trainer.StepMetrics;
import dev.sluice.trainer.job.Results;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
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
import javax.imageio.ImageIO;

/** The run's report: a PNG of the loss and bits-per-byte curves and an HTML page that shows it with the results. */
public final class Report {

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf), new Color(0x393b79), new Color(0x637939)};

    private Report() {}

    /** One trained run: its name (the tokenizer in an A/B), metrics lines and results.json. */
    public record Run(String label, List<StepMetrics> metrics, Results results) {
        public Results.RunInfo info() {
            return results.info();
        }
    }

    /** A white, antialiased canvas of {@code width} × 420 pixels: room for one plot per 500 pixels. */
    static BufferedImage canvas(int width) {
        BufferedImage png = new BufferedImage(width, 420, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = png.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, 420);
        g.dispose();
        return png;
    }

    public static void write(Path dir, String title, List<Run> runs) throws IOException {
        BufferedImage png = canvas(1000);
        Graphics2D g = png.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        Map<String, List<double[]>> loss = new LinkedHashMap<>();
        Map<String, List<double[]>> bpb = new LinkedHashMap<>();
        for (Run r : runs) {
            List<double[]> l = new ArrayList<>();
            List<double[]> b = new ArrayList<>();
            for (StepMetrics m : r.metrics()) {
                l.add(new double[] {m.step() + 1, m.loss()});
                if (m.valBpb() != null) {
                    b.add(new double[] {m.step() + 1, m.valBpb()});
                }
            }
            Results.RunInfo info = r.info();
            if (info.evalBpb() != null && !r.metrics().isEmpty()) { // the final evaluation, after the last step
                b.add(new double[] {info.steps(), info.evalBpb()});
            }
            loss.put(r.label(), l);
            bpb.put(r.label(), b);
        }
        plot(g, 0, "training loss (nats/token)", "step", loss);
        plot(g, 500, "validation bits per byte", "step", bpb);
        g.dispose();
        ImageIO.write(png, "png", dir.resolve("curves.png").toFile());

        StringBuilder rows = new StringBuilder();
        for (Run r : runs) {
            Results.RunInfo i = r.info();
            rows.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%,d</td><td>%,d</td><td>%.3g</td>"
                            + "<td>%.1f s</td><td><b>%.4f</b></td><td>%.4f</td></tr>%n", esc(r.label()),
                    esc(i.tokenizer()), i.modelSize(), i.totalTokens(), i.modelFlops(), i.trainingTime(),
                    i.evalBpb() == null ? Double.NaN : i.evalBpb(), i.evalLoss() == null ? Double.NaN : i.evalLoss()));
        }
        String body = """
                <table><tr><th>run</th><th>tokenizer</th><th>parameters</th><th>tokens</th><th>model FLOPs</th>
                <th>training time</th><th>val bits/byte</th><th>val loss</th></tr>
                %s</table>
                <p><img src="curves.png" alt="training loss and validation bits per byte"></p>
                <p>Per-step metrics: <code>metrics.jsonl</code>; results: <code>results.json</code>.</p>
                """.formatted(rows);
        Files.writeString(dir.resolve("report.html"), page(title, body));
    }

    /** A report page: the title as heading, then {@code body} (HTML). */
    static String page(String title, String body) {
        return """
                <!doctype html>
                <html><head><meta charset="utf-8"><title>%s</title>
                <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
                td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}</style></head>
                <body><h1>%s</h1>
                %s</body></html>
                """.formatted(esc(title), esc(title), body);
    }

    /** Line plots of {@code series} (x, y points) in a 500-pixel-wide panel at {@code x0}; x is a step or a value. */
    static void plot(Graphics2D g, int x0, String title, String xName, Map<String, List<double[]>> series) {
        int left = x0 + 60;
        int top = 40;
        int width = 410;
        int height = 320;
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double minY = Double.MAX_VALUE;
        double maxY = -Double.MAX_VALUE;
        for (List<double[]> s : series.values()) {
            for (double[] p : s) {
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, left, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(left, top, width, height);
        if (minX > maxX) {
            g.drawString("no points yet", left + 10, top + 20);
            return;
        }
        if (maxY - minY < 1e-9) {
            maxY = minY + 1;
        }
        if (maxX - minX <= 1e-9 * Math.abs(maxX)) { // one x for all (every variant the same FLOPs): centre it
            double half = Math.max(1e-9, 0.01 * Math.abs(maxX));
            minX -= half;
            maxX += half;
        }
        for (int t = 0; t <= 4; t++) {
            double v = minY + (maxY - minY) * t / 4;
            int y = top + height - (int) (height * t / 4.0);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, y, left + width, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.2f", v), x0 + 8, y + 4);
        }
        g.drawString(xName + " " + axis(xName, minX), left, top + height + 16);
        g.drawString(xName + " " + axis(xName, maxX), left + width - 100, top + height + 16);
        int k = 0;
        for (var e : series.entrySet()) {
            g.setColor(COLORS[k % COLORS.length]);
            g.setStroke(new BasicStroke(1.6f));
            int px = -1;
            int py = -1;
            for (double[] p : e.getValue()) {
                int x = left + (int) ((p[0] - minX) / (maxX - minX) * width);
                int y = top + height - (int) ((p[1] - minY) / (maxY - minY) * height);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                g.fillOval(x - 2, y - 2, 4, 4);
                px = x;
                py = y;
            }
            g.drawString(e.getKey(), left + width - 160, top + 18 + 15 * k);
            k++;
        }
    }

    private static String axis(String xName, double x) {
        return xName.equals("step") ? Long.toString((long) x) : String.format(Locale.ROOT, "%.3g", x);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
