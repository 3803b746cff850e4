package io.consort.model.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Looks up an enum constant by the lower-case name job files and the wire use for it. */
final class WireNames {
  private WireNames() {}

  /**
   * The constant of {@code values} whose name is {@code name}, ignoring case and surrounding space.
   *
   * @throws IllegalArgumentException naming {@code what}, the bad name and the allowed ones
   */
  static <E> E find(E[] values, Function<E, String> wireName, String name, String what) {
    if (name != null) {
      String wanted = name.strip().toLowerCase(Locale.ROOT);
      for (E value : values) {
        if (wireName.apply(value).equals(wanted)) {
          return value;
        }
      }
    }
    throw new IllegalArgumentException("unknown " + what + " '" + name + "'; allowed: "
        + Arrays.stream(values).map(wireName).collect(Collectors.joining(", ")));
  }
}
