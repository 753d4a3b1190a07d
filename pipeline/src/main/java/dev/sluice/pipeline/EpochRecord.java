package dev.sluice.pipeline;

import dev.sluice.connectors.corpus.CorpusRecord;

/** A corpus record tagged with the pass over the corpus it belongs to (bounded runs of several epochs). */
public record EpochRecord(int epoch, CorpusRecord record) {

    /** The key the packer state lives under: one pass over one shard. */
    public String shardKey() {
        return epoch + ":" + record.shard();
    }
}
