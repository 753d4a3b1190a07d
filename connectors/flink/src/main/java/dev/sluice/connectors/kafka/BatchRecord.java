package dev.sluice.connectors.kafka;

import dev.sluice.contract.batch.TokenBatch;

/**
 * One record of a batch topic as the trainer's source reads it: a decoded batch, or a record refused as bad,
 * kept whole (key, value, where it was) so that it can go to the dead-letter topic instead of failing the job.
 */
public sealed interface BatchRecord {

    /** A batch that decoded and matches the expected metadata. */
    record Good(TokenBatch batch) implements BatchRecord {}

    /** A record that is not such a batch, and why. */
    record Bad(String topic, int partition, long offset, byte[] key, byte[] value, String reason)
            implements BatchRecord {

        /** Where the record was, as topic/partition@offset. */
        public String where() {
            return topic + "/" + partition + "@" + offset;
        }
    }

    /** The dead-letter topic of a batch topic. */
    static String deadLetterTopic(String topic) {
        return topic + ".dlq";
    }
}
