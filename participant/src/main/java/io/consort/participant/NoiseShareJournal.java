package io.consort.participant;

import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.RdpHistory;
import io.consort.privacy.ledger.BankNoiseShare;
import io.consort.privacy.ledger.RecordNoiseShare;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every bank-level noise share this bank put into a secure round, written (and forced to disk) before
 * the noised input leaves the bank, and the survivor set each such round was unmasked for, written
 * when the bank reveals its shares. It is what the bank checks a bank-level ledger entry against and
 * its own measure of its bank-level spend: a round counts from the moment its noised input leaves,
 * at its worst case (t survivors) until the bank learns the survivors, whether or not the coordinator
 * ever enters it in the ledger.
 *
 * <p>Lines ({@link DurableLines}, CRC-32 last): {@code share v1 job round sigma t clip l2 d} and
 * {@code record-share v1 job round sigma t k q clip l2 d} (distributed record-level DP-SGD noise) and
 * {@code survivors v1 job round bank,bank,...}, the job and bank ids percent-encoded, doubles in
 * Java's shortest round-trip form. Not thread-safe.
 */
final class NoiseShareJournal {
  static final String FILE_NAME = "bank-noise-journal.tsv";
  private static final String VERSION = "v1";

  /** One share this bank added: a job's round and the noise it carried. */
  record Share(String jobId, int round, BankNoiseShare noise) {}

  /** One share of a federated DP-SGD step's record-level noise this bank added. */
  record RecordShare(String jobId, int round, RecordNoiseShare noise) {}

  /** The survivor set a round this bank took part in was unmasked for. */
  record Survivors(String jobId, int round, List<String> banks) {}

  private final DurableLines file;
  private final List<Share> shares = new ArrayList<>();
  private final List<RecordShare> recordShares = new ArrayList<>();
  /** The latest word on each round, so a lookup does not scan the whole journal. */
  private final Map<Round, Share> latestShare = new HashMap<>();
  private final Map<Round, RecordShare> latestRecordShare = new HashMap<>();
  private final Map<Round, List<String>> latestSurvivors = new HashMap<>();
  /** Every share's event (index i is shares.get(i)), composed as they come. */
  private final RdpHistory bankLevel = new RdpHistory(RdpAccountant.defaults());
  /** Every record-level share's event (index i is recordShares.get(i)), composed as they come. */
  private final RdpHistory recordLevel = new RdpHistory(RdpAccountant.defaults());
  /** Where each round's shares are in {@link #shares} and {@link #recordShares}. */
  private final Map<Round, List<Integer>> shareIndices = new HashMap<>();
  private final Map<Round, List<Integer>> recordShareIndices = new HashMap<>();
  /** Rounds of each job this bank added a record-level share to. */
  private final Map<String, Set<Integer>> recordRounds = new HashMap<>();

  private record Round(String jobId, int round) {}

  NoiseShareJournal(Path dataDir) throws IOException {
    this.file = new DurableLines(dataDir.resolve(FILE_NAME));
    for (Object record : file.readAll(NoiseShareJournal::parse)) {
      if (record instanceof Share share) {
        remember(share);
      } else if (record instanceof RecordShare share) {
        remember(share);
      } else {
        remember((Survivors) record);
      }
    }
  }

  /** Records a share before the input that carries it leaves the bank; every call is a release of its own. */
  void recordShare(String jobId, int round, BankNoiseShare noise) throws IOException {
    file.append("share", VERSION, encode(jobId), Integer.toString(round), Double.toString(noise.perBankSigma()),
        Integer.toString(noise.threshold()), Double.toString(noise.clipNorm()),
        Double.toString(noise.l2Sensitivity()), Long.toString(noise.dimension()));
    remember(new Share(jobId, round, noise)); // only once the line is on disk
  }

  /**
   * Records a share of a round's record-level DP-SGD noise before the input that carries it leaves the
   * bank; every call is a release of its own.
   */
  void recordRecordShare(String jobId, int round, RecordNoiseShare noise) throws IOException {
    file.append("record-share", VERSION, encode(jobId), Integer.toString(round),
        Double.toString(noise.perBankSigma()), Integer.toString(noise.threshold()), Integer.toString(noise.colluders()),
        Double.toString(noise.samplingRate()), Double.toString(noise.clipNorm()),
        Double.toString(noise.l2Sensitivity()), Long.toString(noise.dimension()));
    remember(new RecordShare(jobId, round, noise));
  }

  /** Records the survivor set this bank revealed its shares for in a round it added noise to. */
  void recordSurvivors(String jobId, int round, List<String> banks) throws IOException {
    List<String> sorted = banks.stream().sorted().toList();
    file.append("survivors", VERSION, encode(jobId), Integer.toString(round),
        String.join(",", sorted.stream().map(NoiseShareJournal::encode).toList()));
    remember(new Survivors(jobId, round, sorted));
  }

  private void remember(Share share) {
    Round key = new Round(share.jobId(), share.round());
    PrivacyEvent event = share.noise().event(counted(key, share.noise().threshold()));
    shares.add(share);
    shareIndices.computeIfAbsent(key, k -> new ArrayList<>()).add(bankLevel.add(event));
    latestShare.put(key, share);
  }

  private void remember(RecordShare share) {
    Round key = new Round(share.jobId(), share.round());
    PrivacyEvent event = share.noise().event(counted(key, share.noise().threshold()));
    recordShares.add(share);
    recordShareIndices.computeIfAbsent(key, k -> new ArrayList<>()).add(recordLevel.add(event));
    latestRecordShare.put(key, share);
    recordRounds.computeIfAbsent(share.jobId(), j -> new HashSet<>()).add(share.round());
  }

  /** New survivors revise the events of the round's shares (the latest survivor set counts). */
  private void remember(Survivors seen) {
    Round key = new Round(seen.jobId(), seen.round());
    latestSurvivors.put(key, seen.banks());
    for (int i : shareIndices.getOrDefault(key, List.of())) {
      BankNoiseShare noise = shares.get(i).noise();
      bankLevel.set(i, noise.event(counted(key, noise.threshold())));
    }
    for (int i : recordShareIndices.getOrDefault(key, List.of())) {
      RecordNoiseShare noise = recordShares.get(i).noise();
      recordLevel.set(i, noise.event(counted(key, noise.threshold())));
    }
  }

  /** The shares a round's noise is accounted with: the survivors this bank saw, or its worst case t. */
  private int counted(Round key, int threshold) {
    List<String> banks = latestSurvivors.get(key);
    return banks == null || banks.size() < threshold ? threshold : banks.size();
  }

  /** The latest record-level share this bank added in the round, or null. */
  RecordNoiseShare recordShare(String jobId, int round) {
    RecordShare s = latestRecordShare.get(new Round(jobId, round));
    return s == null ? null : s.noise();
  }

  /**
   * Every record-level share as an accounting event for this bank's customers: with the survivors it saw
   * (m - k shares counted), or at the worst case (t survivors) where it never saw the round unmasked.
   */
  List<PrivacyEvent> recordEvents() {
    return recordLevel.events();
  }

  /** The composed RDP curve of {@link #recordEvents()}, bit for bit the accountant's composition of them. */
  double[] recordRdp() {
    return recordLevel.rdp();
  }

  /** The rounds of {@code jobId} this bank added a record-level share to. */
  long recordRoundsRun(String jobId) {
    return recordRounds.getOrDefault(jobId, Set.of()).size();
  }

  /** The latest share this bank added in the round, or null. */
  BankNoiseShare share(String jobId, int round) {
    Share s = latestShare.get(new Round(jobId, round));
    return s == null ? null : s.noise();
  }

  /** The survivors (sorted) the round was unmasked for as this bank saw it, or null if it never saw it finish. */
  List<String> survivors(String jobId, int round) {
    return latestSurvivors.get(new Round(jobId, round));
  }

  /** Every share as an accounting event: with the survivors this bank saw, or at its worst case. */
  List<PrivacyEvent> events() {
    return bankLevel.events();
  }

  /** The composed RDP curve of {@link #events()}, bit for bit the accountant's composition of them. */
  double[] rdp() {
    return bankLevel.rdp();
  }

  List<Share> shares() {
    return List.copyOf(shares);
  }

  private static Object parse(String[] f) {
    if (f.length < 2 || !f[1].equals(VERSION)) {
      return null;
    }
    if (f[0].equals("share") && f.length == 9) {
      return new Share(decode(f[2]), Integer.parseInt(f[3]), new BankNoiseShare(Double.parseDouble(f[4]),
          Integer.parseInt(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]), Long.parseLong(f[8])));
    }
    if (f[0].equals("record-share") && f.length == 11) {
      return new RecordShare(decode(f[2]), Integer.parseInt(f[3]), new RecordNoiseShare(Double.parseDouble(f[4]),
          Integer.parseInt(f[5]), Integer.parseInt(f[6]), Double.parseDouble(f[7]), Double.parseDouble(f[8]),
          Double.parseDouble(f[9]), Long.parseLong(f[10])));
    }
    if (f[0].equals("survivors") && f.length == 5) {
      return new Survivors(decode(f[2]), Integer.parseInt(f[3]),
          f[4].isEmpty() ? List.of() : Arrays.stream(f[4].split(",", -1)).map(NoiseShareJournal::decode).toList());
    }
    return null;
  }

  private static String encode(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8);
  }

  private static String decode(String field) {
    return URLDecoder.decode(field, StandardCharsets.UTF_8);
  }
}
