package dev.sluice.runtime;

import dev.sluice.connectors.batch.BatchMeta;
import dev.sluice.connectors.batch.TokenBatch;
import dev.sluice.connectors.kafka.BatchTopicReader;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** A whole topic of committed Arrow batches, partition by partition, in offset order. */
final class Topics {

    private Topics() {}

    static Map<Integer, List<TokenBatch>> read(String bootstrap, String topic, BatchMeta expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (BatchTopicReader reader = new BatchTopicReader(p)) {
            return reader.readAll(topic, expected);
        }
    }
}
