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
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MixtureSamplerTest {

    static final List<String> SOURCES = List.of("a", "b");

    /** Shards 0,1 of source a (5 and 3 windows), shard 2 of source b (6 windows), each ending with its marker. */
    static List<List<PackedSequence>> shardStreams() {
        int[][] shape = {{0, 5}, {1, 3}, {2, 6}};
        List<List<PackedSequence>> streams = new ArrayList<>();
        for (int[] s : shape) {
            String source = s[0] < 2 ? "a" : "b";
            List<PackedSequence> stream = new ArrayList<>();
            for (int w = 0; w < s[1]; w++) {
                stream.add(new PackedSequence("train", source, s[0], w, new int[] {s[0], w}));
            }
            stream.add(PackedSequence.endOfShard("train", source, s[0], s[1]));
            streams.add(stream);
        }
        return streams;
    }

    /** Interleaves the shard streams at random (each stream stays in order), as parallel readers would. */
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

    static MixtureSampler sampler(long seed) {
        return new MixtureSampler(SOURCES, new double[] {1, 2}, List.of(List.of(0, 1), List.of(2)), seed, 3, true);
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
    void orderIsTheSameWhateverTheArrivalInterleaving() {
        List<Long> reference = run(sampler(7), interleave(shardStreams(), 0));
        assertEquals(14, reference.size());
        assertEquals(14, new HashSet<>(reference).size(), "every sequence exactly once");
        for (long arrivalSeed = 1; arrivalSeed < 50; arrivalSeed++) {
            assertEquals(reference, run(sampler(7), interleave(shardStreams(), arrivalSeed)), "arrival " + arrivalSeed);
        }
    }

    @Test
    void anotherSeedGivesAnotherOrderOfTheSameSequences() {
        List<Long> a = run(sampler(7), interleave(shardStreams(), 0));
        List<Long> b = run(sampler(8), interleave(shardStreams(), 0));
        assertNotEquals(a, b);
        List<Long> sa = new ArrayList<>(a);
        List<Long> sb = new ArrayList<>(b);
        Collections.sort(sa);
        Collections.sort(sb);
        assertEquals(sa, sb);
    }

    @Test
    void weightZeroDropsASource() {
        var s = new MixtureSampler(SOURCES, new double[] {1, 0}, List.of(List.of(0, 1), List.of(2)), 1, 2, true);
        List<Long> out = run(s, interleave(shardStreams(), 3));
        assertEquals(8, out.size());
        assertEquals(6, s.droppedByWeight());
    }

    @Test
    void restoredStateContinuesTheSameOrder() throws Exception {
        List<PackedSequence> arrivals = interleave(shardStreams(), 5);
        List<Long> reference = run(sampler(3), arrivals);
        for (int cut = 0; cut < arrivals.size(); cut++) {
            MixtureSampler first = sampler(3);
            List<Long> out = new ArrayList<>();
            for (PackedSequence p : arrivals.subList(0, cut)) {
                first.add(p, q -> out.add(q.seqId()));
            }
            var bytes = new ByteArrayOutputStream();
            first.writeState(new DataOutputStream(bytes));
            MixtureSampler second = sampler(999); // the seed must come from the state, not the constructor
            second.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            for (PackedSequence p : arrivals.subList(cut, arrivals.size())) {
                second.add(p, q -> out.add(q.seqId()));
            }
            second.flush(q -> out.add(q.seqId()));
            assertEquals(reference, out, "cut at " + cut);
        }
    }
}
