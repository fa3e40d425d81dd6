package insights;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The event contract checked in one pass over each payload: parse once with Jackson, then walk the rules of the
 * record's own schema version in the order jobs/transforms/validation.py documents, and return the first broken
 * rule's reason (null when none) and the fields the version does not define as one JSON object (`extra`).
 *
 * <p>Every constant comes from the contracts handed to {@link #register}, which Python reads from the schema registry
 * (schemas/events/v*.json): this class holds the rules' shapes, never their values. Two checks stay in Spark because
 * the JVM's String cannot see them or they depend on the row: bytes that are not UTF-8 (a Java String has already
 * replaced them) and too_far_in_future (it compares with ingested_at).
 */
public final class EventValidator implements UDF1<String, Row> {
  private static final long serialVersionUID = 1L;

  public static final StructType RESULT =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField("reason", DataTypes.StringType, true),
              DataTypes.createStructField("extra", DataTypes.StringType, true)));

  private static final String MALFORMED = "malformed_json";

  /** Registers a validator for these contracts as a SQL function returning struct<reason, extra>. */
  public static void register(SparkSession spark, String name, String contractsJson) {
    spark.udf().register(name, new EventValidator(contractsJson), RESULT);
  }

  private final String contractsJson;
  // Built from contractsJson on first use in each executor JVM: Jackson's mapper and compiled patterns are not
  // serializable, so the task closure carries only the text.
  private transient Map<Long, Contract> contracts;
  private transient ObjectMapper mapper;

  public EventValidator(String contractsJson) {
    this.contractsJson = contractsJson;
    prepare();
  }

  private void prepare() {
    ObjectNode config;
    try {
      config = (ObjectNode) new ObjectMapper().readTree(contractsJson);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("the contracts handed to the event validator are not JSON", e);
    }
    JsonFactory factory =
        JsonFactory.builder()
            // A repeated name is not one JSON object the contract can judge: strict JSON refuses it.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(config.get("max_nesting").asInt())
                    .maxNumberLength(Integer.MAX_VALUE)
                    .maxStringLength(Integer.MAX_VALUE)
                    .build())
            .build();
    mapper =
        new ObjectMapper(factory)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // `extra` keeps a number as it was written (1.50, not 1.5).
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
    contracts = new HashMap<>();
    for (Map.Entry<String, JsonNode> version : config.get("versions").properties()) {
      contracts.put(Long.parseLong(version.getKey()), new Contract(version.getValue()));
    }
  }

  @Override
  public Row call(String payload) {
    if (contracts == null) {
      prepare();
    }
    JsonNode record = parse(payload);
    if (record == null) {
      return RowFactory.create(MALFORMED, null);
    }
    JsonNode version = record.get("schema_version");
    if (isMissing(version)) {
      return RowFactory.create("missing_field:schema_version", null);
    }
    if (!version.isIntegralNumber()) {
      return RowFactory.create("bad_type:schema_version", null);
    }
    Contract contract = version.canConvertToLong() ? contracts.get(version.asLong()) : null;
    if (contract == null) {
      return RowFactory.create("unsupported_schema_version", null);
    }
    String reason = contract.firstBrokenRule(record);
    return RowFactory.create(reason, reason == null ? contract.extra(record) : null);
  }

  /** The record as a JSON object, or null when it is not exactly one strict JSON object. */
  private JsonNode parse(String payload) {
    if (payload == null || !startsWithObject(payload)) {
      return null;
    }
    JsonNode record;
    try {
      record = mapper.readTree(payload);
    } catch (JacksonException | NumberFormatException e) {
      return null;
    }
    return record != null && record.isObject() && !holdsLoneSurrogate(record) ? record : null;
  }

  /** JSON whitespace, then `{`: a byte order mark or any other leading character is not JSON text. */
  private static boolean startsWithObject(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return c == '{';
      }
    }
    return false;
  }

  /** A lone surrogate escape (\ud800) has no UTF-8 form: the text could not be stored as it was sent. */
  private static boolean holdsLoneSurrogate(JsonNode root) {
    ArrayDeque<JsonNode> pending = new ArrayDeque<>();
    pending.push(root);
    while (!pending.isEmpty()) {
      JsonNode node = pending.pop();
      if (node.isTextual()) {
        if (hasLoneSurrogate(node.textValue())) {
          return true;
        }
      } else if (node.isObject()) {
        for (Map.Entry<String, JsonNode> member : node.properties()) {
          if (hasLoneSurrogate(member.getKey())) {
            return true;
          }
          pending.push(member.getValue());
        }
      } else if (node.isArray()) {
        node.forEach(pending::push);
      }
    }
    return false;
  }

  private static boolean hasLoneSurrogate(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  static boolean isMissing(JsonNode value) {
    return value == null || value.isNull();
  }

  /** Whether a value has one of the JSON Schema types in `allowed`; an integer is written without a fraction or an
   * exponent (JSON Schema would also take 1.0, the contract does not). */
  static boolean hasType(JsonNode value, Set<String> allowed) {
    String type;
    if (value.isTextual()) {
      type = "string";
    } else if (value.isIntegralNumber()) {
      type = "integer";
    } else if (value.isNumber()) {
      type = "number";
    } else if (value.isNull()) {
      type = "null";
    } else if (value.isArray()) {
      type = "array";
    } else if (value.isObject()) {
      type = "object";
    } else {
      type = "boolean";
    }
    return allowed.contains(type);
  }

  /** Inside [smallest, exclusive maximum]; a value past 64 bits is not. */
  static boolean inBounds(JsonNode value, long[] bounds) {
    return value != null
        && value.isIntegralNumber()
        && value.canConvertToLong()
        && value.asLong() >= bounds[0]
        && value.asLong() < bounds[1];
  }

  /** One schema version's rules. */
  private static final class Contract {
    final List<String> required = new ArrayList<>();
    final Map<String, Set<String>> fieldTypes = new LinkedHashMap<>();
    final Map<String, long[]> lengthLimits = new LinkedHashMap<>();
    final Map<String, Pattern> patterns = new LinkedHashMap<>();
    final Set<String> eventTypes = new LinkedHashSet<>();
    final Map<String, Set<String>> enums = new LinkedHashMap<>();
    final Set<String> orderEventTypes = new LinkedHashSet<>();
    final List<String> orderFields = new ArrayList<>();
    final String orderDetailEventType;
    final List<String> orderDetailFields = new ArrayList<>();
    final Map<String, long[]> integerBounds = new LinkedHashMap<>();
    final List<String> itemRequired = new ArrayList<>();
    final Map<String, Set<String>> itemTypes = new LinkedHashMap<>();
    final Map<String, long[]> itemIntegerBounds = new LinkedHashMap<>();

    Contract(JsonNode spec) {
      spec.get("required").forEach(name -> required.add(name.textValue()));
      readTypes(spec.get("field_types"), fieldTypes);
      readPairs(spec.get("length_limits"), lengthLimits);
      for (Map.Entry<String, JsonNode> pattern : spec.get("patterns").properties()) {
        patterns.put(pattern.getKey(), Pattern.compile(pattern.getValue().textValue()));
      }
      spec.get("event_types").forEach(name -> eventTypes.add(name.textValue()));
      readTypes(spec.get("enums"), enums);
      spec.get("order_event_types").forEach(name -> orderEventTypes.add(name.textValue()));
      spec.get("order_fields").forEach(name -> orderFields.add(name.textValue()));
      orderDetailEventType = spec.get("order_detail_event_type").textValue();
      spec.get("order_detail_fields").forEach(name -> orderDetailFields.add(name.textValue()));
      readPairs(spec.get("integer_bounds"), integerBounds);
      spec.get("item_required").forEach(name -> itemRequired.add(name.textValue()));
      readTypes(spec.get("item_types"), itemTypes);
      readPairs(spec.get("item_integer_bounds"), itemIntegerBounds);
    }

    private static void readTypes(JsonNode spec, Map<String, Set<String>> into) {
      for (Map.Entry<String, JsonNode> field : spec.properties()) {
        Set<String> values = new LinkedHashSet<>();
        field.getValue().forEach(value -> values.add(value.textValue()));
        into.put(field.getKey(), values);
      }
    }

    private static void readPairs(JsonNode spec, Map<String, long[]> into) {
      for (Map.Entry<String, JsonNode> field : spec.properties()) {
        into.put(field.getKey(), new long[] {field.getValue().get(0).asLong(), field.getValue().get(1).asLong()});
      }
    }

    /** The reason of the first rule the record breaks, in the order validation.py's `rejection_rules` lists them. */
    String firstBrokenRule(JsonNode record) {
      JsonNode eventTypeValue = record.get("event_type");
      String eventType = eventTypeValue != null && eventTypeValue.isTextual() ? eventTypeValue.textValue() : null;
      for (String field : required) {
        if (!field.equals("schema_version") && isMissing(record.get(field))) {
          return "missing_field:" + field;
        }
      }
      if (eventType != null && orderEventTypes.contains(eventType)) {
        for (String field : orderFields) {
          if (isMissing(record.get(field))) {
            return "missing_field:" + field;
          }
        }
      }
      for (Map.Entry<String, Set<String>> field : fieldTypes.entrySet()) {
        JsonNode value = record.get(field.getKey());
        if (!field.getKey().equals("schema_version") && value != null && !hasType(value, field.getValue())) {
          return "bad_type:" + field.getKey();
        }
      }
      JsonNode items = record.get("items");
      if (items != null && itemsHaveBadType(items)) {
        return "bad_type:items";
      }
      if (!eventTypes.contains(eventType)) {
        return "unknown_event_type";
      }
      for (Map.Entry<String, long[]> limit : lengthLimits.entrySet()) {
        JsonNode value = record.get(limit.getKey());
        if (value != null && value.isTextual()) {
          String text = value.textValue();
          int length = text.codePointCount(0, text.length());
          if (length < limit.getValue()[0] || length > limit.getValue()[1]) {
            return "bad_value:" + limit.getKey();
          }
        }
      }
      if (!isInstant(record.get("occurred_at").textValue())) {
        return "bad_value:occurred_at";
      }
      for (Map.Entry<String, Pattern> pattern : patterns.entrySet()) {
        JsonNode value = record.get(pattern.getKey());
        if (!pattern.getKey().equals("occurred_at")
            && value != null
            && value.isTextual()
            && !pattern.getValue().matcher(value.textValue()).find()) {
          return "bad_value:" + pattern.getKey();
        }
      }
      for (Map.Entry<String, Set<String>> allowed : enums.entrySet()) {
        JsonNode value = record.get(allowed.getKey());
        if (value != null && value.isTextual() && !allowed.getValue().contains(value.textValue())) {
          return "bad_value:" + allowed.getKey();
        }
      }
      for (Map.Entry<String, long[]> bounds : integerBounds.entrySet()) {
        JsonNode value = record.get(bounds.getKey());
        if (value != null && !inBounds(value, bounds.getValue())) {
          return "bad_value:" + bounds.getKey();
        }
      }
      for (String field : orderDetailFields) {
        if (record.get(field) != null
            && (!orderDetailEventType.equals(eventType) || (field.equals("items") && itemsHaveBadValue(items)))) {
          return "bad_value:" + field;
        }
      }
      return null;
    }

    /** Matches the contract's pattern and names a real calendar day (the pattern lets 02-30 through). */
    private boolean isInstant(String text) {
      Matcher match = patterns.get("occurred_at").matcher(text);
      if (!match.find()) {
        return false;
      }
      try {
        LocalDate.of(
            Integer.parseInt(text.substring(0, 4)),
            Integer.parseInt(text.substring(5, 7)),
            Integer.parseInt(text.substring(8, 10)));
        return true;
      } catch (DateTimeException | NumberFormatException | IndexOutOfBoundsException e) {
        return false;
      }
    }

    private boolean itemsHaveBadType(JsonNode items) {
      for (JsonNode item : items) {
        if (!item.isObject()) {
          return true;
        }
        for (Map.Entry<String, Set<String>> field : itemTypes.entrySet()) {
          JsonNode value = item.get(field.getKey());
          if (value != null && !hasType(value, field.getValue())) {
            return true;
          }
        }
      }
      return false;
    }

    private boolean itemsHaveBadValue(JsonNode items) {
      for (JsonNode item : items) {
        for (String field : itemRequired) {
          if (item.get(field) == null) {
            return true;
          }
        }
        for (Map.Entry<String, long[]> bounds : itemIntegerBounds.entrySet()) {
          if (!inBounds(item.get(bounds.getKey()), bounds.getValue())) {
            return true;
          }
        }
      }
      return false;
    }

    /** The members this version does not define, as one JSON object; null when there are none. */
    String extra(JsonNode record) {
      ObjectNode unknown = null;
      for (Map.Entry<String, JsonNode> member : record.properties()) {
        if (!fieldTypes.containsKey(member.getKey())) {
          if (unknown == null) {
            unknown = JsonNodeFactory.instance.objectNode();
          }
          unknown.set(member.getKey(), member.getValue());
        }
      }
      return unknown == null ? null : unknown.toString();
    }
  }
}
