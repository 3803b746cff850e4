package io.consort.cli.option;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An option value that is one of a few names. As an option's {@code converter} it turns the name into
 * the value; as its {@code completionCandidates} it gives the names to {@code ${COMPLETION-CANDIDATES}}
 * in the help. Any other value fails with picocli's own wording for enums ({@code Invalid value for option
 * '--dp': expected one of [record, bank, both, off] (case-sensitive) but was 'maybe'}) and exit status 2.
 *
 * <p>Subclasses have a no-argument constructor, which picocli calls.
 *
 * @param <T> the value an option holds
 */
public abstract class NamedValues<T> implements ITypeConverter<T>, Iterable<String> {
  private final List<String> listed = new ArrayList<>();
  private final Map<String, T> byName = new LinkedHashMap<>();
  private final Map<T, String> names = new HashMap<>();

  /** {@code values} in the order the help lists them, each under {@code name.apply(value)}. */
  protected NamedValues(List<T> values, Function<T, String> name) {
    for (T value : values) {
      String n = name.apply(value);
      listed.add(n);
      byName.put(n, value);
      names.put(value, n);
    }
  }

  /** Also accepts {@code alias} for {@code value}, without listing it. */
  protected final void alias(String alias, T value) {
    byName.put(alias, value);
  }

  /** The value named exactly {@code name} (or an alias), if any. */
  public final Optional<T> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The listed name of {@code value}. */
  public final String name(T value) {
    String name = names.get(value);
    if (name == null) {
      throw new IllegalArgumentException("no name for " + value);
    }
    return name;
  }

  /** The listed names, without aliases. */
  public final List<String> names() {
    return List.copyOf(listed);
  }

  @Override
  public final T convert(String value) {
    return find(value).orElseThrow(() -> new TypeConversionException(
        "expected one of " + names() + " (case-sensitive) but was '" + value + "'"));
  }

  @Override
  public final Iterator<String> iterator() {
    return names().iterator();
  }
}
