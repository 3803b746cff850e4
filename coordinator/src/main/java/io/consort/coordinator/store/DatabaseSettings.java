package io.consort.coordinator.store;

/**
 * Which database holds the coordinator's state: the embedded one under the data directory (no
 * URL, the default) or a PostgreSQL server named by its JDBC URL. The password never appears in
 * {@link #toString()} or in a message; {@link #redactedUrl()} drops any the URL carries.
 *
 * @param url {@code jdbc:postgresql://host:port/database}, or null for the embedded database
 * @param user the database role, or null when the URL names it
 * @param password the role's password, or null when the URL carries it or none is needed
 */
public record DatabaseSettings(String url, String user, String password) {
  /** The embedded database in the data directory. */
  public static final DatabaseSettings EMBEDDED = new DatabaseSettings(null, null, null);

  public DatabaseSettings {
    if (url != null && !url.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException("database.url must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/"
          + "database) or left out for the embedded database, got '" + redact(url) + "'");
    }
    if (url == null && (user != null || password != null)) {
      throw new IllegalArgumentException("database.user and database.password_file need database.url");
    }
  }

  public boolean embedded() {
    return url == null;
  }

  /** The URL without its query (where a password may be), for messages. */
  public String redactedUrl() {
    return url == null ? "(embedded)" : redact(url);
  }

  private static String redact(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q) + "?...";
  }

  @Override
  public String toString() {
    return "DatabaseSettings[url=" + redactedUrl() + ", user=" + user + ", password=" + (password == null ? "none"
        : "(set)") + "]";
  }
}
