package io.consort.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds a YAML configuration file to a record whose components name its keys (in snake_case: a
 * component {@code epsilonCap} is the key {@code epsilon_cap}). A component left out of the file is
 * null, so the record says where a default applies. Strict where a typo would otherwise pass unseen:
 * an unknown key is refused naming the nearest valid one, a key given twice is refused, and no value
 * is coerced to another type (not {@code "seven"} or {@code "7"} to a number, {@code 7.5} to an
 * integer, {@code 1} to a boolean, or a single value to a list), and a list holds no empty item.
 * Only plain YAML is read: no object tags.
 */
final class StrictYaml {
  private static final PropertyNamingStrategies.NamingBase KEY_NAMES =
      (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

  private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '([^']*)'");

  private static final ObjectMapper MAPPER = YAMLMapper.builder()
      .propertyNamingStrategy(KEY_NAMES)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
      .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
      .serializationInclusion(JsonInclude.Include.NON_NULL)
      .build();

  private StrictYaml() {}

  /** @throws ConfigException naming the file, the dotted key and the bad value or the nearest valid key */
  static <T> T read(Path file, Class<T> type) {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
    }
    T value;
    try {
      value = MAPPER.readValue(content, type);
    } catch (IOException e) {
      throw explain(file, e);
    }
    if (value == null) {
      throw new ConfigException(file + " is empty; expected a YAML mapping at the top level");
    }
    return value;
  }

  /** Writes {@code content} (a map or a record) as block-style YAML. */
  static void write(Path file, Object content) throws IOException {
    Files.writeString(file, MAPPER.writeValueAsString(content));
  }

  /** {@code content} as block-style YAML text, as {@link #write} writes it. */
  static String toYaml(Object content) {
    try {
      return MAPPER.writeValueAsString(content);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + content.getClass().getSimpleName() + " as YAML", e);
    }
  }

  /** {@code content}'s keys and values as nested maps and lists, as {@link #write} would spell them. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> toMap(Object content) {
    return MAPPER.convertValue(content, Map.class);
  }

  /**
   * {@code value} as a path, relative to the directory of {@code file} unless it is absolute.
   *
   * @throws IllegalArgumentException naming {@code key} when {@code value} is no path
   */
  static Path resolve(Path file, String key, String value) {
    if (value == null) {
      return null;
    }
    try {
      Path p = Path.of(value);
      return p.isAbsolute() ? p : file.toAbsolutePath().getParent().resolve(p).normalize();
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(key + " must be a file path, got '" + value + "': " + e.getReason());
    }
  }

  // ------------------------------------------------------------------ error messages

  private static ConfigException explain(Path file, IOException e) {
    Matcher duplicate = e instanceof JsonProcessingException p && p.getOriginalMessage() != null
        ? DUPLICATE.matcher(p.getOriginalMessage()) : null;
    if (duplicate != null && duplicate.lookingAt()) {
      String parent = e instanceof JsonMappingException m ? dottedKey(m.getPath()) : "";
      return new ConfigException(file + ": " + (parent.isEmpty() ? "" : parent + ".") + duplicate.group(1)
          + " is given twice", e);
    }
    if (e instanceof UnrecognizedPropertyException unknown) {
      return new ConfigException(file + ": " + unknownKey(unknown), e);
    }
    if (e instanceof MismatchedInputException mismatch) {
      String key = dottedKey(mismatch.getPath());
      JsonParser parser = mismatch.getProcessor() instanceof JsonParser p ? p : null;
      if (key.isEmpty()) {
        return new ConfigException(parser == null || parser.currentToken() == null
            ? file + " is empty; expected a YAML mapping at the top level"
            : file + ": expected a YAML mapping at the top level, got " + shown(parser), e);
      }
      return new ConfigException(file + ": " + key + " must be " + expected(mismatch.getTargetType())
          + ", got " + (parser == null ? "something else" : shown(parser)), e);
    }
    if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
      return new ConfigException(file + ": " + dottedKey(mapping.getPath()) + ": " + mapping.getOriginalMessage(), e);
    }
    if (e instanceof JsonProcessingException parse) {
      String message = parse.getOriginalMessage();
      String where = parse.getLocation() == null ? ""
          : " (line " + parse.getLocation().getLineNr() + ", column " + parse.getLocation().getColumnNr() + ")";
      return new ConfigException(file + " is not valid YAML: " + message.lines().findFirst().orElse("") + where, e);
    }
    return new ConfigException("config file " + file + " cannot be read: " + e.getMessage(), e);
  }

  /** "privacy.epsilon-cap is not a known key; did you mean privacy.epsilon_cap?" */
  private static String unknownKey(UnrecognizedPropertyException e) {
    List<JsonMappingException.Reference> path = e.getPath();
    String parent = dottedKey(path.subList(0, path.size() - 1));
    String prefix = parent.isEmpty() ? "" : parent + ".";
    String wrong = e.getPropertyName();
    List<String> valid = validKeys(e.getReferringClass(), e.getKnownPropertyIds());
    String message = prefix + wrong + " is not a known key; ";
    String nearest = nearest(wrong, valid);
    if (nearest != null) {
      return message + "did you mean " + prefix + nearest + "?";
    }
    return message + (parent.isEmpty() ? "the top-level keys are " : "the keys under " + parent + " are ")
        + String.join(", ", valid);
  }

  /** The keys valid at one level, in the order the record declares them. */
  private static List<String> validKeys(Class<?> type, Collection<Object> known) {
    List<String> keys = new ArrayList<>();
    if (type != null && type.isRecord()) {
      for (var component : type.getRecordComponents()) {
        keys.add(KEY_NAMES.translate(component.getName()));
      }
    }
    if (known != null) {
      known.stream().map(String::valueOf).filter(k -> !keys.contains(k)).sorted().forEach(keys::add);
    }
    return keys;
  }

  /**
   * The valid key closest to {@code wrong} in edit distance, if it is close enough to be a typo (up to one
   * edit in three characters, at most three) or a shortening ({@code stage_timeout} for
   * {@code stage_timeout_seconds}).
   */
  static String nearest(String wrong, List<String> valid) {
    String typed = wrong.toLowerCase(Locale.ROOT);
    int allowed = Math.max(1, Math.min(3, typed.length() / 3));
    return valid.stream()
        .filter(k -> editDistance(typed, k) <= allowed || typed.length() >= 4 && k.startsWith(typed))
        .min(Comparator.comparingInt(k -> editDistance(typed, k)))
        .orElse(null);
  }

  /** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
  static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  /** "job.schema.categorical[1].name" */
  private static String dottedKey(List<JsonMappingException.Reference> path) {
    StringBuilder key = new StringBuilder();
    for (JsonMappingException.Reference r : path) {
      if (r.getFieldName() != null) {
        key.append(key.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        key.append('[').append(r.getIndex()).append(']');
      }
    }
    return key.toString();
  }

  /** What the file has where the error is: the scalar quoted, or the kind of node. */
  private static String shown(JsonParser parser) {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.START_OBJECT) {
      return "a mapping";
    }
    if (token == JsonToken.START_ARRAY) {
      return "a list";
    }
    try {
      return "'" + parser.getText() + "'";
    } catch (IOException e) {
      return "something else";
    }
  }

  private static String expected(Class<?> type) {
    if (type == null) {
      return "something else";
    }
    if (type == Integer.class || type == Long.class || type == int.class || type == long.class) {
      return "an integer";
    }
    if (type == Double.class || type == double.class) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "a single value";
    }
    if (Collection.class.isAssignableFrom(type)) {
      return "a list";
    }
    Description description = type.getAnnotation(Description.class);
    if (description != null) {
      return description.value();
    }
    return "a mapping";
  }

  /** How an error names what a record accepts, when that is more than a mapping of its keys. */
  @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
  @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
  @interface Description {
    String value();
  }
}
