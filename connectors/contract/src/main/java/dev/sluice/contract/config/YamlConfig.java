package dev.sluice.contract.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Loads a YAML file (snake_case keys) into an immutable config record. Unknown keys, wrong types and values
 * the record's constructor refuses all fail here, before any work starts, with the file, the line and the
 * field's path in the message.
 */
public final class YamlConfig {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY); // tokenizer: gpt2 or [gpt2, marin]

    /** A change that leaves the field out, so the record takes its default ({@code Map.of} holds no nulls). */
    public static final Object LEFT_OUT = new Object() {
        @Override
        public String toString() {
            return "(left out)";
        }
    };

    private YamlConfig() {}

    public static <T> T load(Path file, Class<T> type) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("config file " + file + " does not exist");
        }
        try {
            String text = Files.readString(file);
            try {
                return YAML.readValue(text, type);
            } catch (JsonMappingException e) {
                throw new ConfigException(describe(file.toString(), text, e), e);
            }
        } catch (IOException e) {
            throw new ConfigException("config " + file + ": " + e.getMessage(), e);
        }
    }

    public static <T> T parse(String yaml, Class<T> type) {
        try {
            return YAML.readValue(yaml, type);
        } catch (JsonMappingException e) {
            throw new ConfigException(describe("(inline)", yaml, e), e);
        } catch (IOException e) {
            throw new ConfigException("config: " + e.getMessage(), e);
        }
    }

    /**
     * The same config with some fields changed, named as in the YAML ({@code seq_len}, {@code kafka}, ...), bound
     * and checked by the record's constructor exactly as a loaded file is: a changed copy needs no list of the
     * record's other fields. A value of {@link #LEFT_OUT} leaves the field out.
     */
    @SuppressWarnings("unchecked")
    public static <T extends Record> T with(T config, Map<String, ?> changes) {
        ObjectNode tree = YAML.valueToTree(config);
        changes.forEach((field, value) -> {
            if (!tree.has(field)) {
                throw new IllegalArgumentException(config.getClass().getSimpleName() + " has no field '" + field + "'");
            }
            tree.set(field, value == LEFT_OUT ? tree.nullNode() : YAML.valueToTree(value));
        });
        try {
            return (T) YAML.treeToValue(tree, config.getClass());
        } catch (JsonMappingException e) {
            throw new ConfigException(describe("(override)", "", e), e);
        } catch (IOException e) {
            throw new ConfigException("config: " + e.getMessage(), e);
        }
    }

    private static String describe(String where, String text, JsonMappingException e) {
        String field = e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        String why = e instanceof ValueInstantiationException && e.getCause() != null
                ? e.getCause().getMessage() : e.getOriginalMessage();
        int line = lineOf(text, e);
        return "config " + where + (line > 0 ? " line " + line : "") + (field.isEmpty() ? "" : ", field '" + field + "'")
                + ": " + why;
    }

    /**
     * The line of the offending key. Jackson buffers a record's properties before it builds the record, so its own
     * location points at the end of the object; the key's first occurrence in the text is the better answer.
     */
    private static int lineOf(String text, JsonMappingException e) {
        var path = e.getPath();
        String key = path.isEmpty() ? null : path.get(path.size() - 1).getFieldName();
        if (key != null) {
            var m = java.util.regex.Pattern.compile("(?m)(^|[\\s{,-])" + java.util.regex.Pattern.quote(key) + "\\s*:")
                    .matcher(text);
            if (m.find()) {
                return (int) text.substring(0, m.end(1)).chars().filter(c -> c == '\n').count() + 1;
            }
        }
        return e.getLocation() == null ? 0 : e.getLocation().getLineNr();
    }

    /** A config that cannot be used; the message names the file, line and field. */
    public static final class ConfigException extends IllegalArgumentException {
        public ConfigException(String message) {
            super(message);
        }

        public ConfigException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** For record constructors: fails naming the field unless the condition holds. */
    public static void require(boolean condition, String field, String rule, Object value) {
        if (!condition) {
            throw new IllegalArgumentException(field + " " + rule + " (got " + value + ")");
        }
    }
}
