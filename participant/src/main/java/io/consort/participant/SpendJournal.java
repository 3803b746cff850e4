package io.consort.participant;

import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.protocol.v1.DpReport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every DP-SGD run whose output left this bank, written (and forced to disk) before the output is
 * sent. It is the bank's own measure of what it has spent: a release counts whether or not the
 * coordinator later enters it in the ledger, accepts it, or asks for a countersignature, so neither a
 * lost message nor a coordinator that drops updates can make the bank spend past its cap. One line
 * per run: {@code job<TAB>round<TAB>z<TAB>q<TAB>steps<TAB>clip}. Not thread-safe.
 */
final class SpendJournal {
  static final String FILE_NAME = "privacy-spend-journal.tsv";

  private final Path file;
  private final Map<String, DpReport> runs = new LinkedHashMap<>();

  SpendJournal(Path dataDir) throws IOException {
    this.file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t");
        try {
          runs.put(f[0] + "/" + f[1], DpReport.newBuilder().setNoiseMultiplier(Double.parseDouble(f[2]))
              .setSamplingRate(Double.parseDouble(f[3])).setSteps(Long.parseLong(f[4]))
              .setClipNorm(Double.parseDouble(f[5])).build());
        } catch (RuntimeException e) {
          // a torn last line (crash while writing) never reached the network: the write is forced
          // before sending, so only a line that was fully written can have been sent
          if (i == lines.size() - 1) {
            continue;
          }
          throw new IOException(file + " line " + (i + 1) + " is corrupt: '" + line + "'", e);
        }
      }
    }
  }

  /** Records a run before its output is sent. A job's round is recorded once (a re-run replaces it). */
  void record(String jobId, int round, DpReport report) throws IOException {
    String line = String.format(Locale.ROOT, "%s\t%d\t%s\t%s\t%d\t%s%n", jobId, round, report.getNoiseMultiplier(),
        report.getSamplingRate(), report.getSteps(), report.getClipNorm());
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    // a round re-run after a coordinator restart is a second release: both count
    String key = jobId + "/" + round;
    runs.put(runs.containsKey(key) ? key + "#" + runs.size() : key, report);
  }

  DpReport run(String jobId, int round) {
    return runs.get(jobId + "/" + round);
  }

  /** Rounds of {@code jobId} this bank has already trained with DP-SGD. */
  long roundsRun(String jobId) {
    return runs.keySet().stream().filter(k -> k.startsWith(jobId + "/")).count();
  }

  /** All runs as accounting events, for the budget guard. */
  List<PrivacyEvent> events() {
    List<PrivacyEvent> events = new ArrayList<>();
    for (DpReport r : runs.values()) {
      events.add(new SampledGaussianEvent(r.getNoiseMultiplier(), r.getSamplingRate(), r.getSteps()));
    }
    return events;
  }
}
