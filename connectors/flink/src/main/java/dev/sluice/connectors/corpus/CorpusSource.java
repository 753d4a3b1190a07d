package dev.sluice.connectors.corpus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.FileSourceSplitSerializer;
import org.apache.flink.connector.file.src.impl.FileSourceReader;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The corpus as one Flink source: every source's splits in the {@link ShardSchedule}'s order, handed out by a
 * {@link ScheduleEnumerator} that keeps readers within a window past the lowest split still being read, and read by
 * Flink's file reader with the {@link CorpusFormat}. One source for all corpus sources, because the window must
 * span them: sources read apart would drift apart on the mixture clock, and the sampler would hold the difference.
 */
public final class CorpusSource implements Source<CorpusRecord, FileSourceSplit, ScheduleEnumerator.State>,
        ResultTypeQueryable<CorpusRecord> {

    private final List<ShardSchedule.Split> splits;
    private final Map<String, CorpusFormat.Options> options;
    private final ScheduleEnumerator.Watch watch;
    private final long splitBytes;

    private CorpusSource(Builder b) {
        this.splits = b.schedule.splits();
        this.options = Map.copyOf(b.options);
        this.splitBytes = b.splitBytes;
        this.watch = b.watchInterval == null ? null : new ScheduleEnumerator.Watch(Map.copyOf(b.watchPatterns),
                b.watchInterval, b.splitBytes);
    }

    /**
     * A bounded source of the schedule's splits (as Flink's {@code FileSource.forRecordStreamFormat}).
     *
     * @param options each source's reading options, by source name
     * @param splitBytes how large a piece of a shard one reader takes at a time
     */
    public static Builder forSchedule(ShardSchedule schedule, Map<String, CorpusFormat.Options> options,
                                      long splitBytes) {
        return new Builder(schedule, options, splitBytes);
    }

    /** The source's optional continuous monitoring; bounded unless set. */
    public static final class Builder {
        private final ShardSchedule schedule;
        private final Map<String, CorpusFormat.Options> options;
        private final long splitBytes;
        private Map<String, List<String>> watchPatterns = Map.of();
        private Duration watchInterval;

        private Builder(ShardSchedule schedule, Map<String, CorpusFormat.Options> options, long splitBytes) {
            this.schedule = schedule;
            this.options = options;
            this.splitBytes = splitBytes;
        }

        /** Unbounded: every {@code interval}, shards newly matching a source's patterns are read too. */
        public Builder monitorContinuously(Map<String, List<String>> patterns, Duration interval) {
            this.watchPatterns = patterns;
            this.watchInterval = interval;
            return this;
        }

        public CorpusSource build() {
            return new CorpusSource(this);
        }
    }

    @Override
    public Boundedness getBoundedness() {
        return watch == null ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<CorpusRecord, FileSourceSplit> createReader(SourceReaderContext context) {
        return new FileSourceReader<>(context, new CorpusFormat(options), context.getConfiguration());
    }

    @Override
    public SplitEnumerator<FileSourceSplit, ScheduleEnumerator.State> createEnumerator(
            SplitEnumeratorContext<FileSourceSplit> context) throws Exception {
        List<FileSourceSplit> initial = new ArrayList<>();
        Set<String> paths = new HashSet<>();
        for (ShardSchedule.Split s : splits) {
            Path p = Path.of(s.path());
            boolean there = Files.isRegularFile(p);
            initial.add(s.toFileSplit(there ? Files.size(p) : 0, there ? Files.getLastModifiedTime(p).toMillis() : 0));
            paths.add(s.path());
        }
        return new ScheduleEnumerator(context, new ScheduleEnumerator.State(initial, splits.size(), paths), watch,
                splitBytes);
    }

    @Override
    public SplitEnumerator<FileSourceSplit, ScheduleEnumerator.State> restoreEnumerator(
            SplitEnumeratorContext<FileSourceSplit> context, ScheduleEnumerator.State checkpoint) {
        return new ScheduleEnumerator(context, checkpoint, watch, splitBytes);
    }

    @Override
    public SimpleVersionedSerializer<FileSourceSplit> getSplitSerializer() {
        return FileSourceSplitSerializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<ScheduleEnumerator.State> getEnumeratorCheckpointSerializer() {
        return new ScheduleEnumerator.StateSerializer();
    }

    @Override
    public TypeInformation<CorpusRecord> getProducedType() {
        return TypeInformation.of(CorpusRecord.class);
    }
}
