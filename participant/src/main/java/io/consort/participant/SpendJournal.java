package io.consort.participant;

import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.protocol.v1.DpReport;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Every DP-SGD run whose output left this bank, written (and forced to disk) before the output is
 * sent. It is the bank's own measure of what it has spent: a release counts whether or not the
 * coordinator later enters it in the ledger, accepts it, or asks for a countersignature, so neither a
 * lost message nor a coordinator that drops updates or asks for the same round again can make the
 * bank spend past its cap.
 *
 * <p>Every release is its own line, and what is read back is exactly what was written: a round run
 * twice is two releases. A line is {@code v1<TAB>job<TAB>round<TAB>z<TAB>q<TAB>steps<TAB>clip<TAB>crc},
 * the job id percent-encoded (so no job id can forge a field or a line) and the CRC-32 of the rest of
 * the line last, so a torn or altered line is recognised. Doubles are written in Java's shortest
 * round-trip form and read back bit for bit. The file and, when it is created, its directory are
 * forced to disk before a release is sent. Not thread-safe.
 */
final class SpendJournal {
  static final String FILE_NAME = "privacy-spend-journal.tsv";
  private static final String VERSION = "v1";

  /** One release: a job's round, and what its DP-SGD ran. */
  record Release(String jobId, int round, DpReport report) {}

  private final Path file;
  private final List<Release> releases = new ArrayList<>();

  SpendJournal(Path dataDir) throws IOException {
    this.file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.isEmpty() && i == lines.size() - 1) {
          continue;
        }
        Release release = parse(line);
        if (release == null) {
          // a torn last line (crash while writing) never reached the network: the write is forced
          // before sending, so only a line that was fully written can have been sent
          if (i == lines.size() - 1) {
            continue;
          }
          throw new IOException(file + " line " + (i + 1) + " is corrupt (the privacy spend journal must not be "
              + "edited): '" + line + "'");
        }
        releases.add(release);
      }
    }
  }

  /** Records a release before its output is sent; every call is a release of its own. */
  void record(String jobId, int round, DpReport report) throws IOException {
    if (round < 0) {
      throw new IllegalArgumentException("round must be >= 0, got " + round);
    }
    String body = String.join("\t", VERSION, URLEncoder.encode(jobId, StandardCharsets.UTF_8),
        Integer.toString(round), Double.toString(report.getNoiseMultiplier()),
        Double.toString(report.getSamplingRate()), Long.toString(report.getSteps()),
        Double.toString(report.getClipNorm()));
    String line = body + "\t" + crc(body) + "\n";
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    boolean created = !Files.exists(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    if (created) {
      // a new file's directory entry must be durable too, or a crash can lose the whole journal
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    }
    releases.add(new Release(jobId, round, report));
  }

  /** What this bank ran in {@code jobId}'s round, the latest release of it; null if it never ran it. */
  DpReport run(String jobId, int round) {
    for (int i = releases.size() - 1; i >= 0; i--) {
      Release r = releases.get(i);
      if (r.jobId().equals(jobId) && r.round() == round) {
        return r.report();
      }
    }
    return null;
  }

  /** Distinct rounds of {@code jobId} this bank has already trained with DP-SGD. */
  long roundsRun(String jobId) {
    Set<Integer> rounds = new HashSet<>();
    releases.stream().filter(r -> r.jobId().equals(jobId)).forEach(r -> rounds.add(r.round()));
    return rounds.size();
  }

  /** Every release, in the order they were sent. */
  List<Release> releases() {
    return List.copyOf(releases);
  }

  /** All releases as accounting events, for the budget guard. */
  List<PrivacyEvent> events() {
    List<PrivacyEvent> events = new ArrayList<>();
    for (Release r : releases) {
      events.add(new SampledGaussianEvent(r.report().getNoiseMultiplier(), r.report().getSamplingRate(),
          r.report().getSteps()));
    }
    return events;
  }

  private static Release parse(String line) {
    int lastTab = line.lastIndexOf('\t');
    if (lastTab < 0 || !line.substring(lastTab + 1).equals(crc(line.substring(0, lastTab)))) {
      return null;
    }
    String[] f = line.substring(0, lastTab).split("\t", -1);
    if (f.length != 7 || !f[0].equals(VERSION)) {
      return null;
    }
    try {
      return new Release(URLDecoder.decode(f[1], StandardCharsets.UTF_8), Integer.parseInt(f[2]),
          DpReport.newBuilder().setNoiseMultiplier(Double.parseDouble(f[3])).setSamplingRate(Double.parseDouble(f[4]))
              .setSteps(Long.parseLong(f[5])).setClipNorm(Double.parseDouble(f[6])).build());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String crc(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    return String.format(Locale.ROOT, "%08x", crc.getValue());
  }
}
