package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {

    @Test
    void theClustersCheckpointDirIsTheNewKeyElseTheLegacyOne() {
        assertEquals("s3://a", new ClusterConfig(Map.of("execution.checkpointing.dir", "s3://a",
                "state.checkpoints.dir", "s3://b")).checkpointDir());
        assertEquals("s3://b", new ClusterConfig(Map.of("state.checkpoints.dir", "s3://b")).checkpointDir());
        assertNull(new ClusterConfig(Map.of("rest.port", "8081")).checkpointDir());
    }
}
