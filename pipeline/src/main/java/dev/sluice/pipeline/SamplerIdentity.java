package dev.sluice.pipeline;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a sampler's checkpointed order depends on, written ahead of its state: the partition count and this
 * partition's index (shards go to partition ordinal % partitions), the tokenizer and seq_len (the sequences), and
 * the shard set (the ordinals). A restore into a job where any of them changed would continue another order under
 * the same seq_ids, so it is refused, naming each change.
 */
record SamplerIdentity(int partitions, int partition, String tokenizer, int seqLen, String shardSet) {

    private static final int MAGIC = 0x534C5331; // "SLS1"

    void write(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(partitions);
        out.writeInt(partition);
        out.writeUTF(tokenizer);
        out.writeInt(seqLen);
        out.writeUTF(shardSet);
    }

    static SamplerIdentity read(DataInputStream in, String what) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IllegalStateException("cannot restore " + what + ": its checkpointed state was written by an "
                    + "older Sluice without the job's identity; start the dataset anew");
        }
        return new SamplerIdentity(in.readInt(), in.readInt(), in.readUTF(), in.readInt(), in.readUTF());
    }

    /** Each field (but the partition index) that differs from {@code now}, as "name was X, is Y"; empty if none. */
    List<String> changesTo(SamplerIdentity now) {
        List<String> changes = new ArrayList<>();
        if (partitions != now.partitions) {
            changes.add("partitions was " + partitions + ", is " + now.partitions);
        }
        if (!tokenizer.equals(now.tokenizer)) {
            changes.add("tokenizer was " + tokenizer + ", is " + now.tokenizer);
        }
        if (seqLen != now.seqLen) {
            changes.add("seq_len was " + seqLen + ", is " + now.seqLen);
        }
        if (!shardSet.equals(now.shardSet)) {
            changes.add("the shard set was " + shardSet + ", is " + now.shardSet);
        }
        return changes;
    }
}
