package io.consort.participant;

import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.RdpHistory;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.protocol.v1.DpReport;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
 * the line last ({@link DurableLines}: forced to disk before a release is sent, a torn last line
 * skipped, an altered line refused). Doubles are written in Java's shortest round-trip form and read
 * back bit for bit. Not thread-safe.
 */
final class SpendJournal {
  static final String FILE_NAME = "privacy-spend-journal.tsv";
  private static final String VERSION = "v1";

  /** One release: a job's round, and what its DP-SGD ran. */
  record Release(String jobId, int round, DpReport report) {}

  private final DurableLines file;
  private final List<Release> releases = new ArrayList<>();
  /** The releases' events, composed as they come: a budget check costs one curve, not a replay. */
  private final RdpHistory history = new RdpHistory(RdpAccountant.defaults());

  SpendJournal(Path dataDir) throws IOException {
    this.file = new DurableLines(dataDir.resolve(FILE_NAME));
    for (Release release : file.readAll(SpendJournal::parse)) {
      remember(release);
    }
  }

  private void remember(Release release) {
    PrivacyEvent event = event(release); // first: a report no event can describe changes nothing
    releases.add(release);
    history.add(event);
  }

  private static PrivacyEvent event(Release r) {
    return new SampledGaussianEvent(r.report().getNoiseMultiplier(), r.report().getSamplingRate(),
        r.report().getSteps());
  }

  /** Records a release before its output is sent; every call is a release of its own. */
  void record(String jobId, int round, DpReport report) throws IOException {
    if (round < 0) {
      throw new IllegalArgumentException("round must be >= 0, got " + round);
    }
    file.append(VERSION, URLEncoder.encode(jobId, StandardCharsets.UTF_8), Integer.toString(round),
        Double.toString(report.getNoiseMultiplier()), Double.toString(report.getSamplingRate()),
        Long.toString(report.getSteps()), Double.toString(report.getClipNorm()));
    remember(new Release(jobId, round, report)); // only once the line is on disk

  }

  /** What this bank ran in {@code jobId}'s round, the latest release of it; null if it never ran it. */
  DpReport run(String jobId, int round) {
    Release r = DurableLines.latest(releases, x -> x.jobId().equals(jobId) && x.round() == round);
    return r == null ? null : r.report();
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
    return history.events();
  }

  /** The composed RDP curve of {@link #events()}, bit for bit {@code RdpAccountant.defaults().rdp(events())}. */
  double[] rdp() {
    return history.rdp();
  }

  private static Release parse(String[] f) {
    if (f.length != 7 || !f[0].equals(VERSION)) {
      return null;
    }
    return new Release(URLDecoder.decode(f[1], StandardCharsets.UTF_8), Integer.parseInt(f[2]),
        DpReport.newBuilder().setNoiseMultiplier(Double.parseDouble(f[3])).setSamplingRate(Double.parseDouble(f[4]))
            .setSteps(Long.parseLong(f[5])).setClipNorm(Double.parseDouble(f[6])).build());
  }
}
