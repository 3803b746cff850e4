package io.consort.model.dl4j;

import java.util.function.Supplier;

/** Runs test code with a system property set, and puts back what was there before. */
final class WithProperty {
  private WithProperty() {}

  static <T> T get(String name, String value, Supplier<T> code) {
    String old = System.setProperty(name, value);
    try {
      return code.get();
    } finally {
      if (old == null) {
        System.clearProperty(name);
      } else {
        System.setProperty(name, old);
      }
    }
  }
}
