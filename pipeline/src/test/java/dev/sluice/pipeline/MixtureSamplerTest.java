package dev.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MixtureSamplerTest {

    /**
     * On the mixture clock: split 0 (source a) over [0, 10), split 1 (source b, half a's weight) over [0, 20),
     * split 2 (source a again) over [10, 20); ordinals in start order, as the schedule numbers them.
     */
    static final Map<Integer, double[]> CLOCK = Map.of(0, new double[] {0, 10}, 1, new double[] {0, 20},
            2, new double[] {10, 10});
    static final int[][] SHAPE = {{0, 5}, {1, 6}, {2, 3}}; // ordinal, windows

    /** Each split's windows at progress (w+1)/n, then its end marker. */
    static List<List<PackedSequence>> splitStreams() {
        List<List<PackedSequence>> streams = new ArrayList<>();
        for (int[] s : SHAPE) {
            String source = s[0] == 1 ? "b" : "a";
            List<PackedSequence> stream = new ArrayList<>();
            for (int w = 0; w < s[1]; w++) {
                stream.add(new PackedSequence("train", source, s[0], w, new int[] {s[0], w}, (w + 1.0) / s[1]));
            }
            stream.add(PackedSequence.endOfShard("train", source, s[0], s[1]));
            streams.add(stream);
        }
        return streams;
    }

    /** Interleaves the split streams at random (each stream stays in order), as parallel readers would. */
    static List<PackedSequence> interleave(List<List<PackedSequence>> streams, long seed) {
        Random r = new Random(seed);
        List<List<PackedSequence>> rest = new ArrayList<>();
        streams.forEach(s -> rest.add(new ArrayList<>(s)));
        List<PackedSequence> out = new ArrayList<>();
        while (rest.stream().anyMatch(s -> !s.isEmpty())) {
            List<PackedSequence> s = rest.get(r.nextInt(rest.size()));
            if (!s.isEmpty()) {
                out.add(s.remove(0));
            }
        }
        return out;
    }

    static MixtureSampler sampler(long seed, int shuffle) {
        return new MixtureSampler(CLOCK, seed, shuffle, true);
    }

    static List<Long> run(MixtureSampler s, List<PackedSequence> arrivals) {
        List<Long> out = new ArrayList<>();
        for (PackedSequence p : arrivals) {
            s.add(p, q -> out.add(q.seqId()));
        }
        assertTrue(s.exhausted());
        s.flush(q -> out.add(q.seqId()));
        return out;
    }

    @Test
    void withoutShuffleTheOrderIsTheClocksComputedApart() {
        List<PackedSequence> all = new ArrayList<>();
        splitStreams().forEach(s -> s.stream().filter(p -> !p.isEndOfShard()).forEach(all::add));
        Comparator<PackedSequence> byClock = Comparator.comparingDouble(
                (PackedSequence p) -> CLOCK.get(p.shardOrdinal())[0] + p.progress() * CLOCK.get(p.shardOrdinal())[1])
                .thenComparingInt(PackedSequence::shardOrdinal).thenComparingLong(PackedSequence::window);
        List<Long> expected = all.stream().sorted(byClock).map(PackedSequence::seqId).toList();
        for (long arrivalSeed = 0; arrivalSeed < 20; arrivalSeed++) {
            assertEquals(expected, run(sampler(7, 0), interleave(splitStreams(), arrivalSeed)), "arrival " + arrivalSeed);
        }
        // a's two splits take the clock's first and second half; b's one split spans both
        assertEquals(List.of(0L << 32, 1L << 32, (0L << 32) | 1), expected.subList(0, 3));
    }

    @Test
    void orderIsTheSameWhateverTheArrivalInterleaving() {
        List<Long> reference = run(sampler(7, 3), interleave(splitStreams(), 0));
        assertEquals(14, reference.size());
        assertEquals(14, new HashSet<>(reference).size(), "every sequence exactly once");
        for (long arrivalSeed = 1; arrivalSeed < 50; arrivalSeed++) {
            assertEquals(reference, run(sampler(7, 3), interleave(splitStreams(), arrivalSeed)), "arrival " + arrivalSeed);
        }
    }

    @Test
    void anotherSeedGivesAnotherOrderOfTheSameSequences() {
        List<Long> a = run(sampler(7, 3), interleave(splitStreams(), 0));
        List<Long> b = run(sampler(8, 3), interleave(splitStreams(), 0));
        assertNotEquals(a, b);
        List<Long> sa = new ArrayList<>(a);
        List<Long> sb = new ArrayList<>(b);
        Collections.sort(sa);
        Collections.sort(sb);
        assertEquals(sa, sb);
    }

    @Test
    void holdsOnlyWhatArrivedBeforeTheSlowestUnfinishedSplitReachedIt() {
        MixtureSampler s = sampler(1, 0);
        List<Long> out = new ArrayList<>();
        List<List<PackedSequence>> streams = splitStreams();
        streams.get(2).forEach(p -> s.add(p, q -> out.add(q.seqId()))); // split 2 first, whole: it must wait
        assertEquals(List.of(), out);
        assertEquals(3, s.waitingSequences());
        streams.get(0).forEach(p -> s.add(p, q -> out.add(q.seqId()))); // split 0 whole: only what b cannot precede
        assertEquals(5 + 3, s.waitingSequences(), "split 1 has sent nothing, so it may still send at its start");
        s.add(streams.get(1).get(0), q -> out.add(q.seqId())); // b at 20/6 = 3.33: releases a's windows before it
        assertEquals(List.of(0L << 32), out);
        streams.get(1).subList(1, 7).forEach(p -> s.add(p, q -> out.add(q.seqId())));
        assertEquals(0, s.waitingSequences());
        assertEquals(14, out.size());
        assertTrue(s.exhausted());
    }

    @Test
    void watchingPassesSequencesOnAsTheyArrive() {
        MixtureSampler s = new MixtureSampler(Map.of(), 1, 0, false);
        List<Long> out = new ArrayList<>();
        interleave(splitStreams(), 4).forEach(p -> s.add(p, q -> out.add(q.seqId())));
        assertEquals(14, out.size());
        assertEquals(0, s.waitingSequences());
    }

    @Test
    void restoredStateContinuesTheSameOrder() throws Exception {
        List<PackedSequence> arrivals = interleave(splitStreams(), 5);
        List<Long> reference = run(sampler(3, 3), arrivals);
        for (int cut = 0; cut < arrivals.size(); cut++) {
            MixtureSampler first = sampler(3, 3);
            List<Long> out = new ArrayList<>();
            for (PackedSequence p : arrivals.subList(0, cut)) {
                first.add(p, q -> out.add(q.seqId()));
            }
            var bytes = new ByteArrayOutputStream();
            first.writeState(new DataOutputStream(bytes));
            MixtureSampler second = sampler(999, 3); // the seed must come from the state, not the constructor
            second.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            for (PackedSequence p : arrivals.subList(cut, arrivals.size())) {
                second.add(p, q -> out.add(q.seqId()));
            }
            second.flush(q -> out.add(q.seqId()));
            assertEquals(reference, out, "cut at " + cut);
        }
    }
}
