package dev.sluice.trainer;

import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's grad mode is per thread and starts on. Flink runs a restored task in a new thread, so before touching
 * weights in place (restoring a checkpoint) or scoring without training, we turn it off explicitly; the gradient
 * collector turns it on for the training step and restores it after.
 */
final class Autograd {

    private Autograd() {}

    static void off() {
        JniUtils.setGradMode(false);
    }
}
