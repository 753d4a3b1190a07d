package dev.sluice.runtime;

import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.connectors.kafka.BatchTopicReader;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** A whole topic of committed Arrow batches, partition by partition, in offset order. */
final class Topics {

    private Topics() {}

    /** Every batch as "partition:seq_ids:hash of tokens", partition by partition in offset order: for comparing runs. */
    static List<String> contents(String bootstrap, String topic, BatchMeta expected) {
        List<String> out = new java.util.ArrayList<>();
        read(bootstrap, topic, expected).forEach((partition, batches) -> {
            for (TokenBatch b : batches) {
                out.add(partition + ":" + java.util.Arrays.toString(b.seqIds()) + ":"
                        + java.util.Arrays.hashCode(b.tokens()));
            }
        });
        return out;
    }

    static Map<Integer, List<TokenBatch>> read(String bootstrap, String topic, BatchMeta expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (BatchTopicReader reader = new BatchTopicReader(p)) {
            return reader.readAll(topic, expected);
        }
    }
}
