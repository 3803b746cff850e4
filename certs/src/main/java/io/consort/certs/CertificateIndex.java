package io.consort.certs;

import io.consort.identity.Role;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CA's record of issued certificates: {@code index.tsv}, one tab-separated line per
 * certificate after a version header. Unknown versions are refused.
 *
 * <pre>
 * # consort-ca-index v1
 * serial	name	role	not_before	not_after	status	revoked_at	reason
 * 5f3a...	bank-a	participant	2025-01-01T00:00:00Z	2026-01-01T00:00:00Z	valid	-	-
 * </pre>
 *
 * The status column is informational (derived when written); revoked_at and reason are the truth.
 */
final class CertificateIndex {
  static final String VERSION_LINE = "# consort-ca-index v1";
  static final String HEADER = "serial\tname\trole\tnot_before\tnot_after\tstatus\trevoked_at\treason";
  private static final String NONE = "-";

  private CertificateIndex() {
  }

  static List<IssuedCertificate> read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    if (lines.isEmpty() || !lines.get(0).equals(VERSION_LINE)) {
      throw new IOException(file + ": line 1: expected '" + VERSION_LINE + "' but found '"
          + (lines.isEmpty() ? "" : lines.get(0)) + "' (unknown or corrupt CA index)");
    }
    List<IssuedCertificate> entries = new ArrayList<>();
    for (int i = 2; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        entries.add(parse(line));
      } catch (RuntimeException e) {
        throw new IOException(file + ": line " + (i + 1) + ": " + e.getMessage() + ": '" + line + "'", e);
      }
    }
    return entries;
  }

  static void write(Path file, List<IssuedCertificate> entries, Instant now) throws IOException {
    StringBuilder text = new StringBuilder(VERSION_LINE).append('\n').append(HEADER).append('\n');
    for (IssuedCertificate entry : entries) {
      text.append(entry.serialHex()).append('\t')
          .append(entry.name()).append('\t')
          .append(entry.role().wireName()).append('\t')
          .append(entry.notBefore()).append('\t')
          .append(entry.notAfter()).append('\t')
          .append(entry.status(now).name().toLowerCase(java.util.Locale.ROOT)).append('\t')
          .append(entry.revoked() ? entry.revokedAt().toString() : NONE).append('\t')
          .append(entry.revoked() ? entry.reason().cliName() : NONE).append('\n');
    }
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, text, StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static IssuedCertificate parse(String line) {
    String[] fields = line.split("\t", -1);
    if (fields.length != 8) {
      throw new IllegalArgumentException("expected 8 tab-separated fields but found " + fields.length);
    }
    try {
      boolean revoked = !NONE.equals(fields[6]);
      return new IssuedCertificate(
          new BigInteger(fields[0], 16),
          fields[1],
          Role.fromWireName(fields[2]),
          Instant.parse(fields[3]),
          Instant.parse(fields[4]),
          revoked ? Instant.parse(fields[6]) : null,
          revoked ? RevocationReason.fromCliName(fields[7]) : null);
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }
}
