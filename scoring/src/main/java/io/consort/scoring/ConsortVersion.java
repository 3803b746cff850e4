package io.consort.scoring;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of the Consort build that is running, as recorded in a published model's provenance. */
public final class ConsortVersion {
  private static final String CURRENT = read();

  private ConsortVersion() {}

  /** The build's version (Maven project version), or {@code dev} when run from unpackaged sources. */
  public static String current() {
    return CURRENT;
  }

  private static String read() {
    try (InputStream in = ConsortVersion.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "dev";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "dev");
      return v.isBlank() || v.startsWith("${") ? "dev" : v;
    } catch (IOException e) {
      return "dev";
    }
  }
}
