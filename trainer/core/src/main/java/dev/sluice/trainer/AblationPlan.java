package dev.sluice.trainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which runs an ablation trains: a baseline and one variant per listed feature, each with the same data and token
 * budget, and each over {@code seeds} initialisation seeds. In {@code drop} mode the baseline has every listed
 * feature on and a variant turns one off; in {@code add} mode the baseline has them all off (the plain GPT, as far as
 * the list goes) and a variant turns one on. A feature another listed one requires moves with it (dropping
 * {@code sliding_window} drops {@code rope_rescale} too; adding {@code rope_rescale} adds {@code sliding_window});
 * one that is not listed is refused with the reason, before any job starts.
 */
public record AblationPlan(SpeedrunConfig config, Mode mode, List<Feature> features, int seeds, Variant baseline,
                           List<Variant> variants) {

    public enum Mode { DROP, ADD }

    /**
     * A model to train: its name ("baseline", "-backout", "+qk_norm (with ...)"), a directory name, and the listed
     * features' states in it.
     */
    public record Variant(String name, String dir, Map<String, Boolean> features, SpeedrunConfig config) {}

    /** The plan for {@code config}; no names: every feature ({@link Feature}). */
    public static AblationPlan of(SpeedrunConfig config, List<String> names, Mode mode, int seeds) {
        if (seeds < 1) {
            throw new IllegalArgumentException("--seeds must be >= 1 (got " + seeds + ")");
        }
        Set<Feature> listed = new LinkedHashSet<>();
        for (String name : names.isEmpty() ? Feature.names() : names) {
            if (!listed.add(Feature.named(name.trim()))) {
                throw new IllegalArgumentException("feature '" + name + "' is listed twice");
            }
        }
        boolean drop = mode == Mode.DROP;
        ModelConfig base = config.model();
        for (Feature f : listed) {
            base = f.set(base, drop);
        }
        for (Feature f : listed) { // the baseline's own consistency
            if (f.isOn(base) && f.requires().isPresent() && !f.requires().get().isOn(base)) {
                throw new IllegalArgumentException(f.field + " requires " + f.requires().get().field + ", which "
                        + config.name() + " has off: list " + f.requires().get().field + " too");
            }
        }
        Variant baseline = variant(config, "baseline", "baseline", base, listed);
        List<Variant> variants = new ArrayList<>();
        for (Feature f : listed) {
            List<Feature> moved = new ArrayList<>(List.of(f));
            for (Feature other : Feature.values()) {
                // what moves along: in drop mode the features that need f, in add mode the one f needs
                Feature needing = drop ? other : f;
                Feature needed = drop ? f : other;
                if (other == f || needing.requires().orElse(null) != needed) {
                    continue;
                }
                if (drop ? !other.isOn(base) : other.isOn(base)) {
                    continue; // nothing to move
                }
                if (!listed.contains(other)) {
                    throw new IllegalArgumentException((drop ? "dropping " + f.field + " leaves " + other.field
                            + " on, which requires it" : f.field + " requires " + other.field + ", which is off in "
                            + "the add-mode baseline") + ": list " + other.field + " too");
                }
                moved.add(other);
            }
            ModelConfig m = base;
            for (Feature g : moved) {
                m = g.set(m, !drop);
            }
            String with = moved.size() == 1 ? "" : " (with " + String.join(", ",
                    moved.subList(1, moved.size()).stream().map(g -> g.field).toList()) + ")";
            variants.add(variant(config, (drop ? "-" : "+") + f.field + with, (drop ? "drop-" : "add-") + f.field, m,
                    listed));
        }
        return new AblationPlan(config, mode, List.copyOf(listed), seeds, baseline, List.copyOf(variants));
    }

    private static Variant variant(SpeedrunConfig config, String name, String dir, ModelConfig model,
                                   Set<Feature> listed) {
        Map<String, Boolean> states = new LinkedHashMap<>();
        listed.forEach(f -> states.put(f.field, f.isOn(model)));
        return new Variant(name, dir, states, new SpeedrunConfig(config.name(), config.data(), model, config.train()));
    }

    /** The baseline, then the variants. */
    public List<Variant> all() {
        List<Variant> all = new ArrayList<>(List.of(baseline));
        all.addAll(variants);
        return all;
    }

    /** The seeds every variant trains with: the config's, then the next ones. */
    public List<Long> seedValues() {
        List<Long> values = new ArrayList<>();
        for (int i = 0; i < seeds; i++) {
            values.add(config.train().seed() + i);
        }
        return values;
    }

    /**
     * The run of {@code variant} with {@code seed}: its own name (the TrainJob's and its consumer group's) and the
     * seed; model, data and token budget as planned.
     */
    public SpeedrunConfig run(Variant variant, long seed) {
        // the budget fixed in tokens: a feature that adds parameters must not buy itself more data
        SpeedrunConfig c = variant.config().withTrainTokens(config.trainTokens(), Map.of("seed", seed));
        return c.named(config.name() + "-" + variant.dir() + "-s" + seed);
    }
}
