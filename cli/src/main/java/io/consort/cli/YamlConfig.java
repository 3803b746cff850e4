package io.consort.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A YAML configuration file read as nested maps, with typed getters whose errors name the file,
 * the dotted key and the bad value. Only plain YAML is accepted (SafeConstructor: no object tags).
 * Relative paths in the file are resolved against the file's directory.
 */
final class YamlConfig {
  private final Path file;
  private final String prefix;
  private final Map<String, Object> values;

  private YamlConfig(Path file, String prefix, Map<String, Object> values) {
    this.file = file;
    this.prefix = prefix;
    this.values = values;
  }

  @SuppressWarnings("unchecked")
  static YamlConfig load(Path file) {
    try (Reader reader = Files.newBufferedReader(file)) {
      Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
      if (!(root instanceof Map)) {
        throw new ConfigException(file + ": expected a YAML mapping at the top level");
      }
      return new YamlConfig(file, "", (Map<String, Object>) root);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
    } catch (YAMLException e) {
      throw new ConfigException(file + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  boolean has(String key) {
    return values.get(key) != null;
  }

  @SuppressWarnings("unchecked")
  YamlConfig section(String key) {
    Object v = values.get(key);
    if (v == null) {
      return new YamlConfig(file, prefix + key + ".", Map.of());
    }
    if (!(v instanceof Map)) {
      throw bad(key, v, "a mapping");
    }
    return new YamlConfig(file, prefix + key + ".", (Map<String, Object>) v);
  }

  String string(String key, String fallback) {
    Object v = values.get(key);
    return v == null ? fallback : String.valueOf(v);
  }

  String requiredString(String key) {
    String v = string(key, null);
    if (v == null || v.isBlank()) {
      throw new ConfigException(file + ": " + prefix + key + " is required");
    }
    return v;
  }

  int integer(String key, int fallback) {
    Object v = values.get(key);
    if (v == null) {
      return fallback;
    }
    if (v instanceof Integer i) {
      return i;
    }
    throw bad(key, v, "an integer");
  }

  long longValue(String key, long fallback) {
    Object v = values.get(key);
    if (v == null) {
      return fallback;
    }
    if (v instanceof Number n && !(v instanceof Double)) {
      return n.longValue();
    }
    throw bad(key, v, "an integer");
  }

  double number(String key, double fallback) {
    Object v = values.get(key);
    if (v == null) {
      return fallback;
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      try {
        return Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw bad(key, v, "a number");
      }
    }
    throw bad(key, v, "a number");
  }

  boolean bool(String key, boolean fallback) {
    Object v = values.get(key);
    if (v == null) {
      return fallback;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw bad(key, v, "true or false");
  }

  Path path(String key) {
    String v = string(key, null);
    if (v == null) {
      return null;
    }
    Path p = Path.of(v);
    return p.isAbsolute() ? p : file.toAbsolutePath().getParent().resolve(p).normalize();
  }

  @SuppressWarnings("unchecked")
  List<Object> list(String key) {
    Object v = values.get(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List)) {
      throw bad(key, v, "a list");
    }
    return (List<Object>) v;
  }

  @SuppressWarnings("unchecked")
  YamlConfig wrap(String key, Object item) {
    if (!(item instanceof Map)) {
      throw bad(key, item, "a mapping");
    }
    return new YamlConfig(file, prefix + key + ".", (Map<String, Object>) item);
  }

  Path file() {
    return file;
  }

  private ConfigException bad(String key, Object value, String expected) {
    return new ConfigException(file + ": " + prefix + key + " must be " + expected + ", got '" + value + "'");
  }

  /** A configuration file is missing, unreadable or wrong; the message names file and key. */
  static final class ConfigException extends RuntimeException {
    ConfigException(String message) {
      super(message);
    }
  }
}
