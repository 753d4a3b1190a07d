package dev.sluice.trainer.job;

import dev.sluice.contract.batch.TokenBatch;
import dev.sluice.connectors.kafka.BatchRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes good batches on to the trainer and sets bad records aside: each is counted ({@code bad_records} in the
 * Flink UI), logged with its topic, partition and offset (the first ten, then every hundredth), and sent to the
 * side output that feeds the dead-letter topic. Training reads on.
 */
final class SetAsideBadRecords extends ProcessFunction<BatchRecord, TokenBatch> {

    static final OutputTag<BatchRecord.Bad> BAD = new OutputTag<>("bad-records",
            TypeInformation.of(BatchRecord.Bad.class));

    private static final Logger LOG = LoggerFactory.getLogger(SetAsideBadRecords.class);

    private transient Counter badRecords;

    @Override
    public void open(OpenContext context) {
        badRecords = getRuntimeContext().getMetricGroup().counter("bad_records");
    }

    @Override
    public void processElement(BatchRecord record, Context ctx, Collector<TokenBatch> out) {
        if (record instanceof BatchRecord.Good good) {
            out.collect(good.batch());
            return;
        }
        BatchRecord.Bad bad = (BatchRecord.Bad) record;
        badRecords.inc();
        long n = badRecords.getCount();
        if (n <= 10 || n % 100 == 0) {
            LOG.warn("bad record #{} set aside to the dead-letter topic: {}", n, bad.reason());
        }
        ctx.output(BAD, bad);
    }
}
