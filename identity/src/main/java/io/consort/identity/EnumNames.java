package io.consort.identity;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Parses the lower-case external names of Consort's identity and PKI enums ({@link Role},
 * {@link KeyAlgorithm}, the CA's revocation reasons), with one error message shape.
 */
public final class EnumNames {
  private EnumNames() {
  }

  /**
   * @throws IllegalArgumentException "{field}: '{value}' is not one of a, b, c"
   */
  public static <E extends Enum<E>> E parse(Class<E> type, Function<E, String> externalName, String value, String field) {
    for (E constant : type.getEnumConstants()) {
      if (externalName.apply(constant).equals(value)) {
        return constant;
      }
    }
    throw new IllegalArgumentException(field + ": '" + value + "' is not one of "
        + Arrays.stream(type.getEnumConstants()).map(externalName).collect(Collectors.joining(", ")));
  }
}
