package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.contract.config.YamlConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {

    private static final SpeedrunConfig TINY = FlopsTest.load("tiny");

    @Test
    void modelStateIsFourBytesPerWeightGradientAndMoment() {
        MemoryPlan plan = MemoryPlan.of(TINY, 1);
        long params = TINY.parameters();
        long adam = 2L * TINY.model().vocabSize() * TINY.model().dModel() + TINY.model().scalarParameters();
        assertEquals(4 * params, plan.weights());
        assertEquals(4 * params, plan.gradients());
        long adamScratch = (long) TINY.model().vocabSize() * TINY.model().dModel(); // √v + ε of the largest
        assertEquals(4 * (2 * adam + (params - adam) + adamScratch), plan.optimizerState());
        assertEquals(2 * plan.weights(), MemoryPlan.of(TINY.model(), TINY.seqLen(), 1, 8).weights());
    }

    @Test
    void passMemoryGrowsLinearlyWithTheMicroBatchAndStateDoesNot() {
        MemoryPlan one = MemoryPlan.of(TINY, 1);
        MemoryPlan four = MemoryPlan.of(TINY, 4);
        assertEquals(one.state(), four.state());
        assertEquals(4 * one.attentionScores(), four.attentionScores());
        long lmHeadGrad = 4L * TINY.model().vocabSize() * TINY.model().dModel();
        assertEquals(4 * (one.logits() - lmHeadGrad), four.logits() - lmHeadGrad);
        assertTrue(four.peak() > one.peak());
    }

    @Test
    void chunkedLogitsStopGrowingAtOneChunkWhileTheWholeLogitsGrowWithTheBatch() {
        ModelConfig full = YamlConfig.with(TINY.model(), Map.of("loss", "full"));
        long v = TINY.model().vocabSize();
        long chunkRows = LmHeadLoss.CHUNK_ELEMENTS / v;
        int micro = (int) (4 * chunkRows / TINY.seqLen()); // four chunks' worth of tokens
        long dh = 4L * micro * TINY.seqLen() * TINY.model().dModel();
        long embeddingGradient = 4L * v * TINY.model().dModel();
        assertEquals(2 * 4 * chunkRows * v + dh + embeddingGradient, MemoryPlan.of(TINY, micro).logits(),
                "two chunk buffers (logits, sigmoid) whatever the batch");
        assertTrue(MemoryPlan.of(full, TINY.seqLen(), micro, 4).logits() > 4 * MemoryPlan.of(TINY, micro).logits());
    }

    @Test
    void theLargestMicroBatchIsTheLastThatFits() {
        long budget = MemoryPlan.of(TINY, 5).peak();
        assertEquals(5, MemoryPlan.largestMicroBatch(TINY, budget));
        assertEquals(4, MemoryPlan.largestMicroBatch(TINY, budget - 1));
        assertEquals(0, MemoryPlan.largestMicroBatch(TINY, MemoryPlan.of(TINY, 1).peak() - 1));
        int largest = TINY.train().batchSchedule().stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertEquals(largest, MemoryPlan.largestMicroBatch(TINY, Long.MAX_VALUE));
    }

    @Test
    void replicasOnTheCpuAddTheirWeightsAndGradientsAndShareTheBatch() {
        SpeedrunConfig two = TINY.withTrain(Map.of("devices", List.of("cpu", "cpu")));
        MemoryPlan plan = MemoryPlan.of(two, 3);
        assertEquals(2, MemoryPlan.replicasSharingMemory(two.train()));
        assertEquals(plan.peak() + plan.weights() + plan.gradients(), MemoryPlan.peakOnDevice(two, 3));
        assertEquals(MemoryPlan.of(TINY, 3).peak(), MemoryPlan.peakOnDevice(TINY, 3));
        int largest = TINY.train().batchSchedule().stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertEquals((largest + 1) / 2, MemoryPlan.largestMicroBatch(two, Long.MAX_VALUE), "each pass holds half");
        // GPUs each hold their own replica: the master's card plans as one device does
        SpeedrunConfig gpus = TINY.withTrain(Map.of("device", "gpu:0", "devices", List.of("gpu:0", "gpu:1")));
        assertEquals(1, MemoryPlan.replicasSharingMemory(gpus.train()));
        assertEquals(MemoryPlan.of(gpus, 3).peak(), MemoryPlan.peakOnDevice(gpus, 3));
    }

    @Test
    void theSoftCapKeepsASecondLogitsSizedTensor() {
        ModelConfig capped = TINY.model();
        SpeedrunConfig uncapped = TINY.withModel(Map.of("logit_softcap", 0));
        long btv = 4L * TINY.seqLen() * TINY.model().vocabSize();
        assertTrue(capped.logitSoftcap() > 0);
        assertEquals(btv, MemoryPlan.of(TINY, 1).logits() - MemoryPlan.of(uncapped, 1).logits());
        assertEquals(List.of("weights", "gradients", "optimizer state", "activations", "attention scores", "logits",
                "compute copies", "update scratch"), List.copyOf(MemoryPlan.of(TINY, 1).parts().keySet()));
        assertEquals(0, MemoryPlan.of(TINY, 1).computeCopies(), "float32 compute copies nothing");
    }

    @Test
    void fusedAttentionSavesRowsNotScoresAndBfloat16SavesItsOperands() {
        ModelConfig fused = TINY.model();
        ModelConfig plain = YamlConfig.with(fused, Map.of("attention", "plain"));
        int t = TINY.seqLen();
        long plainScores = MemoryPlan.of(plain, t, 2, 4).attentionScores();
        assertEquals(4L * fused.nLayers() * 2 * fused.nHeads() * t * t, plainScores);
        assertTrue(MemoryPlan.of(fused, t, 2, 4).attentionScores() * 2 < plainScores);
        long bf16 = MemoryPlan.of(fused, t, 2, 4, MemoryPlan.Compute.BFLOAT16).computeCopies();
        long emulated = MemoryPlan.of(fused, t, 2, 4, MemoryPlan.Compute.EMULATED_BFLOAT16).computeCopies();
        // every cast matrix weight is held twice as wide when emulated (float32 instead of bf16), and more
        long castWeights = fused.matrixParameters() - (long) fused.vocabSize() * fused.dModel(); // wte is not cast
        assertTrue(bf16 > 0 && emulated - bf16 >= 2 * castWeights, bf16 + " / " + emulated);
    }
}
