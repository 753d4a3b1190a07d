package dev.sluice.pipeline;

/**
 * Train or validation, by a stable hash of a document's text: the same text lands on the same side in every run
 * and whatever the seed, so validation documents never reach training.
 */
public final class DocumentSplit {

    private DocumentSplit() {}

    public static boolean isValidation(String text, double valFraction) {
        // String.hashCode is specified by the JLS, so it is the same on every JVM.
        double u = (SplitMix64.mix(text.hashCode() ^ 0x5_1CE_5EEDL) >>> 11) * 0x1.0p-53;
        return u < valFraction;
    }
}
