package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.sluice.collective.RankThreads;
import dev.sluice.tokenizer.Tokenizer;
import dev.sluice.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ranks through a real Gloo group (loopback TCP, one thread per rank): two ranks, each training its half of every
 * global batch, follow one rank's losses on the whole batches.
 */
class RanksTest {

    static final Tokenizer GPT2 = Tokenizers.load("gpt2");

    @TempDir
    Path store;

    /** micro at seq_len 32 with 20 steps of [4, 8] sequences. */
    static SpeedrunConfig config() {
        return Micro.config("seq_len: 64", "seq_len: 32", "train_tokens: 4608", "train_tokens: 3840",
                "window_start: 16", "window_start: 8", "window_block: 16", "window_block: 8");
    }

    private <T> List<T> onRanks(int size, String prefix, RankThreads.Work<T> work) throws Exception {
        return new RankThreads(store, Trainer::joinRanks).run(size, prefix, work);
    }

    static List<Double> losses(Trainer t) {
        List<Double> losses = new ArrayList<>();
        while (!t.done()) {
            losses.add(t.step(CheckpointTest.batch(t.step(), t.nextBatchSize())).loss());
        }
        return losses;
    }

    /**
     * The reference is one rank whose host has two devices: the same two passes (each over half the batch, its loss
     * scaled by one half), their gradients added the same way, so the two ranks must match it to the last bit. One
     * pass over the whole batch sums in another order, which Muon's orthogonalisation amplifies (ReplicasTest).
     */
    @Test
    void twoRanksTrainToTheLossesOfOneRankOnTheSameGlobalBatches() throws Exception {
        int steps = 20;
        List<Double> twoDevices;
        try (Trainer t = new Trainer(config().withTrain(java.util.Map.of("devices", List.of("cpu", "cpu"))), GPT2)) {
            assertEquals(steps, t.schedules().totalSteps());
            twoDevices = losses(t);
        }
        List<Double> onePass;
        try (Trainer t = new Trainer(config(), GPT2)) {
            onePass = losses(t);
        }
        List<List<Double>> ranks = twoRanks("train");
        assertEquals(ranks.get(0), ranks.get(1), "every rank reports the same mean loss");
        assertEquals(twoDevices, ranks.get(0), "the losses of one rank with two devices, bit for bit");
        ReplicasTest.assertClose(onePass, ranks.get(0), 1e-4); // measured: at most 5.7e-5 (step 7)
        assertTrue(onePass.get(steps - 1) < onePass.get(0), "loss fell: " + onePass);
    }

    /** Two ranks train micro on the halves of the same global batches; rank 1 starts from another seed. */
    private List<List<Double>> twoRanks(String name) throws Exception {
        return onRanks(2, name, group -> {
            List<Double> losses = new ArrayList<>();
            // another seed on rank 1: its initial weights must come from rank 0
            SpeedrunConfig c = group.rank() == 0 ? config() : config().withTrain(java.util.Map.of("seed", 99));
            try (Trainer t = new Trainer(c, GPT2, group)) {
                assertEquals(2, t.ranks());
                while (!t.done()) {
                    List<int[]> global = CheckpointTest.batch(t.step(), t.nextBatchSize());
                    int half = global.size() / 2;
                    Trainer.StepResult r = t.step(global.subList(group.rank() * half, (group.rank() + 1) * half));
                    assertEquals(global.size(), r.sequences(), "counted for the whole batch");
                    losses.add(r.loss());
                }
            }
            return losses;
        });
    }

    /**
     * On a GPU every parameter and gradient goes through a host copy around each collective. Forced on the CPU, that
     * path (the copies, the write-backs, the bucket packing) must give the direct path's losses bit for bit; only the
     * device-to-host transfer itself is left unexercised here.
     */
    @Test
    void stagingThroughHostCopiesAsOnAGpuChangesNoBit() throws Exception {
        List<List<Double>> direct = twoRanks("direct");
        RankSync.stageEvenOnCpu = true;
        try {
            assertEquals(direct, twoRanks("staged"));
        } finally {
            RankSync.stageEvenOnCpu = false;
        }
    }

    /** A rank may itself drive several devices (Replicas): two ranks of two devices train as one of four. */
    @Test
    void ranksOfSeveralDevicesTrainAsOneRankWithAllOfThem() throws Exception {
        SpeedrunConfig four = config().withTrain(java.util.Map.of("devices", List.of("cpu", "cpu", "cpu", "cpu")));
        List<Double> oneRank;
        try (Trainer t = new Trainer(four, GPT2)) {
            oneRank = losses(t);
        }
        SpeedrunConfig two = config().withTrain(java.util.Map.of("devices", List.of("cpu", "cpu")));
        List<List<Double>> ranks = onRanks(2, "devices", group -> {
            List<Double> losses = new ArrayList<>();
            try (Trainer t = new Trainer(two, GPT2, group)) {
                assertEquals(2, t.devices().size());
                while (!t.done()) {
                    List<int[]> global = CheckpointTest.batch(t.step(), t.nextBatchSize());
                    int half = global.size() / 2;
                    losses.add(t.step(global.subList(group.rank() * half, (group.rank() + 1) * half)).loss());
                }
            }
            return losses;
        });
        assertEquals(ranks.get(0), ranks.get(1));
        ReplicasTest.assertClose(oneRank, ranks.get(0), 1e-4); // the same passes, their gradients added in another order
    }

    @Test
    void divergedReplicasFailLoudlyAndABatchTheRanksCannotSplitIsRefused() throws Exception {
        List<String> outcomes = onRanks(2, "diverged", group -> {
            try (NDManager manager = NDManager.newBaseManager();
                 Gpt model = new Gpt(config().model(), manager, Precision.named("float32"), 1 + group.rank())) {
                RankSync sync = new RankSync(group);
                String before;
                try {
                    sync.requireEqual(model.parameters(), "in the test");
                    before = "equal";
                } catch (IllegalStateException e) {
                    before = e.getMessage();
                }
                sync.broadcastParameters(model.parameters()); // checks them equal once copied
                return before;
            }
        });
        assertEquals("equal", outcomes.get(0), "rank 0 is its own reference");
        assertTrue(outcomes.get(1).startsWith("rank 1's parameters differ from rank 0's in the test"), outcomes.get(1));

        for (String refused : onRanks(3, "odd", group -> assertThrows(IllegalArgumentException.class,
                () -> new Trainer(config(), GPT2, group).close()).getMessage())) {
            assertTrue(refused.contains("batch of 4 sequences, which 3 ranks cannot split"), refused);
        }
    }
}
