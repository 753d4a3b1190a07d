package dev.sluice.trainer.job;

import dev.sluice.contract.batch.BatchMeta;
import dev.sluice.connectors.kafka.BatchTopicReader;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first {@code eval_sequences} rows of the validation topic. While the pipeline is still writing, the topic
 * may hold fewer (or none: validation batches commit later than training ones); then each evaluation asks again
 * until the set is complete, and from then on every evaluation scores the same rows.
 */
final class EvalRows {

    private static final Logger LOG = LoggerFactory.getLogger(EvalRows.class);

    private final Properties kafka;
    private final String topic;
    private final BatchMeta meta;
    private final int wanted;
    private List<int[]> rows = List.of();

    EvalRows(Properties kafka, String topic, BatchMeta meta, int wanted) {
        this.kafka = kafka;
        this.topic = topic;
        this.meta = meta;
        this.wanted = wanted;
    }

    /** The rows as complete as the topic allows now (empty if it has none or none are wanted). */
    List<int[]> get() {
        if (wanted > 0 && rows.size() < wanted) {
            try (BatchTopicReader reader = new BatchTopicReader(kafka)) {
                rows = reader.firstRows(topic, meta, wanted);
            }
            if (rows.size() < wanted) {
                LOG.info("{} validation rows of {} in {} so far", rows.size(), wanted, topic);
            }
        }
        return rows;
    }
}
