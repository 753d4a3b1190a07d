package dev.sluice.connectors.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;

/** Creates the topics a job writes, with the partition count and retention it needs, before the job starts. */
public final class KafkaTopics {

    private KafkaTopics() {}

    /**
     * Makes each topic exist with its partitions and replication (Kafka's own {@link NewTopic}; its configs are
     * replaced by the batch topics' own). An existing empty topic is kept (it may be managed by an operator such as
     * Strimzi); one that already holds records is refused unless {@code overwrite}, in which case it is deleted and
     * created again: appending a second run's batches would repeat every seq_id.
     */
    public static void prepare(Properties client, List<NewTopic> topics, boolean overwrite) {
        try (Admin admin = Admin.create(client)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> toDelete = new ArrayList<>();
            List<NewTopic> toCreate = new ArrayList<>();
            for (NewTopic topic : topics) {
                String t = topic.name();
                int partitions = topic.numPartitions();
                if (!existing.contains(t)) {
                    toCreate.add(topic);
                    continue;
                }
                long records = recordCount(admin, t);
                int have = admin.describeTopics(List.of(t)).allTopicNames().get(30, TimeUnit.SECONDS).get(t)
                        .partitions().size();
                if (records > 0 && !overwrite) {
                    throw new IllegalStateException("topic " + t + " already holds " + records
                            + " records; pass --overwrite to replace it, or change 'dataset' in the config");
                }
                if (records > 0 || have != partitions) {
                    if (records == 0 && !overwrite) {
                        throw new IllegalStateException("topic " + t + " has " + have + " partitions; the config asks for "
                                + partitions);
                    }
                    toDelete.add(t);
                    toCreate.add(topic);
                }
            }
            if (!toDelete.isEmpty()) {
                admin.deleteTopics(toDelete).all().get(30, TimeUnit.SECONDS);
                waitUntilGone(admin, toDelete);
            }
            List<NewTopic> create = toCreate.stream().map(t -> new NewTopic(t.name(), t.numPartitions(),
                    t.replicationFactor()).configs(Map.of("retention.ms", "-1", "max.message.bytes", Integer.toString(64 << 20)))).toList();
            admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("preparing Kafka topics " + names(topics) + ": " + e.getCause().getMessage(), e);
        } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException("preparing Kafka topics " + names(topics), e);
        }
    }

    private static List<String> names(List<NewTopic> topics) {
        return topics.stream().map(NewTopic::name).toList();
    }

    /** Makes {@code topic} exist (created with {@code partitions} partitions if missing; an existing one is kept). */
    public static void ensure(Properties client, String topic, int partitions, short replication) {
        try (Admin admin = Admin.create(client)) {
            if (!admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) {
                admin.createTopics(List.of(new NewTopic(topic, partitions, replication)
                        .configs(Map.of("max.message.bytes", Integer.toString(64 << 20))))).all().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IllegalStateException("creating Kafka topic " + topic + ": " + e.getCause().getMessage(), e);
            }
        } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException("creating Kafka topic " + topic, e);
        }
    }

    /** The smallest transaction.max.timeout.ms among the brokers (a transactional producer must stay within it). */
    public static long brokerTransactionMaxTimeoutMs(Properties client) {
        try (Admin admin = Admin.create(client)) {
            List<ConfigResource> brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.BROKER, n.idString())).toList();
            return admin.describeConfigs(brokers).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(c -> Long.parseLong(c.get("transaction.max.timeout.ms").value())).min()
                    .orElseThrow();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the brokers' transaction.max.timeout.ms at "
                    + client.getProperty("bootstrap.servers") + ": " + e, e);
        }
    }

    /** Replication factor 3 where the cluster has three brokers or more, else as many as there are. */
    public static short defaultReplication(Properties client) {
        try (Admin admin = Admin.create(client)) {
            int brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
            return (short) Math.max(1, Math.min(3, brokers));
        } catch (Exception e) {
            throw new IllegalStateException("cannot reach Kafka at " + client.getProperty("bootstrap.servers") + ": " + e, e);
        }
    }

    /** Records currently held by a topic (end minus start offsets over its partitions). */
    public static long recordCount(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        Map<TopicPartition, OffsetSpec> earliest = new java.util.HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
        d.partitions().forEach(p -> {
            earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
            latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        });
        long total = 0;
        var start = admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS);
        var end = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
        for (var tp : end.keySet()) {
            total += end.get(tp).offset() - start.get(tp).offset();
        }
        return total;
    }

    private static void waitUntilGone(Admin admin, List<String> topics) throws Exception {
        for (int i = 0; i < 100; i++) {
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            if (topics.stream().noneMatch(names::contains)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("topics " + topics + " were not deleted within 10 s");
    }
}
