package io.consort.certs;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Parses the lower-case external names of this package's enums, with one error message shape. */
final class EnumNames {
  private EnumNames() {
  }

  /**
   * @throws IllegalArgumentException "{field}: '{value}' is not one of a, b, c"
   */
  static <E extends Enum<E>> E parse(Class<E> type, Function<E, String> externalName, String value, String field) {
    for (E constant : type.getEnumConstants()) {
      if (externalName.apply(constant).equals(value)) {
        return constant;
      }
    }
    throw new IllegalArgumentException(field + ": '" + value + "' is not one of "
        + Arrays.stream(type.getEnumConstants()).map(externalName).collect(Collectors.joining(", ")));
  }
}
