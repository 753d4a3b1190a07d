package dev.sluice.contract.batch;

/**
 * A Kafka record that is not a token batch this reader can train on: not Arrow, another schema or metadata, sizes
 * that disagree with the rows it declares, or token ids outside the vocabulary. The message names the record
 * (topic/partition@offset) and what is wrong with it.
 */
public class BadBatchException extends IllegalStateException {

    public BadBatchException(String message) {
        super(message);
    }

    public BadBatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
