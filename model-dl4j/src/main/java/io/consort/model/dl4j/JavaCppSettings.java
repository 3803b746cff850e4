package io.consort.model.dl4j;

/**
 * JavaCPP settings this module applies before ND4J first loads (they are read once, when
 * JavaCPP's {@code Pointer} class initialises), unless the operator has set them on the command
 * line.
 *
 * <p>{@code org.bytedeco.javacpp.maxPhysicalBytes = 0}: by default JavaCPP caps the process's
 * resident memory at twice the Java heap limit and, to enforce the cap, reads the process's
 * resident size from the operating system on every native allocation it tracks. ND4J makes
 * several such allocations per op (shape descriptors, op contexts, views), so at the small batches
 * a bank trains on, that polling was the largest single cost of a DL4J training step (about 40% of
 * its native time in a profile; docs/BENCHMARKS.md). With 0 the resident-size check is off; the
 * other limit, {@code org.bytedeco.javacpp.maxBytes} (the total JavaCPP has allocated, by
 * default the Java heap limit), still triggers garbage collection and then an
 * {@code OutOfMemoryError} when native memory runs away.
 */
final class JavaCppSettings {
  static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

  private JavaCppSettings() {}

  /** Applies the settings; has no effect once JavaCPP has initialised (idempotent). */
  static void apply() {
    if (System.getProperty(MAX_PHYSICAL_BYTES) == null
        && System.getProperty(MAX_PHYSICAL_BYTES.toLowerCase(java.util.Locale.ROOT)) == null) {
      System.setProperty(MAX_PHYSICAL_BYTES, "0");
    }
  }
}
