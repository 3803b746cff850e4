package io.consort.participant;

import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.ledger.BankNoiseShare;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every bank-level noise share this bank put into a secure round, written (and forced to disk) before
 * the noised input leaves the bank, and the survivor set each such round was unmasked for, written
 * when the bank reveals its shares. It is what the bank checks a bank-level ledger entry against and
 * its own measure of its bank-level spend: a round counts from the moment its noised input leaves,
 * at its worst case (t survivors) until the bank learns the survivors, whether or not the coordinator
 * ever enters it in the ledger.
 *
 * <p>Lines ({@link DurableLines}, CRC-32 last): {@code share v1 job round sigma t clip l2 d} and
 * {@code survivors v1 job round bank,bank,...}, the job and bank ids percent-encoded, doubles in
 * Java's shortest round-trip form. Not thread-safe.
 */
final class NoiseShareJournal {
  static final String FILE_NAME = "bank-noise-journal.tsv";
  private static final String VERSION = "v1";

  /** One share this bank added: a job's round and the noise it carried. */
  record Share(String jobId, int round, BankNoiseShare noise) {}

  /** The survivor set a round this bank took part in was unmasked for. */
  record Survivors(String jobId, int round, List<String> banks) {}

  private final DurableLines file;
  private final List<Share> shares = new ArrayList<>();
  private final List<Survivors> survivors = new ArrayList<>();

  NoiseShareJournal(Path dataDir) throws IOException {
    this.file = new DurableLines(dataDir.resolve(FILE_NAME));
    for (Object record : file.readAll(NoiseShareJournal::parse)) {
      if (record instanceof Share share) {
        shares.add(share);
      } else {
        survivors.add((Survivors) record);
      }
    }
  }

  /** Records a share before the input that carries it leaves the bank; every call is a release of its own. */
  void recordShare(String jobId, int round, BankNoiseShare noise) throws IOException {
    file.append("share", VERSION, encode(jobId), Integer.toString(round), Double.toString(noise.perBankSigma()),
        Integer.toString(noise.threshold()), Double.toString(noise.clipNorm()),
        Double.toString(noise.l2Sensitivity()), Long.toString(noise.dimension()));
    shares.add(new Share(jobId, round, noise));
  }

  /** Records the survivor set this bank revealed its shares for in a round it added noise to. */
  void recordSurvivors(String jobId, int round, List<String> banks) throws IOException {
    List<String> sorted = banks.stream().sorted().toList();
    file.append("survivors", VERSION, encode(jobId), Integer.toString(round),
        String.join(",", sorted.stream().map(NoiseShareJournal::encode).toList()));
    survivors.add(new Survivors(jobId, round, sorted));
  }

  /** The latest share this bank added in the round, or null. */
  BankNoiseShare share(String jobId, int round) {
    Share s = DurableLines.latest(shares, x -> x.jobId().equals(jobId) && x.round() == round);
    return s == null ? null : s.noise();
  }

  /** The survivors (sorted) the round was unmasked for as this bank saw it, or null if it never saw it finish. */
  List<String> survivors(String jobId, int round) {
    Survivors s = DurableLines.latest(survivors, x -> x.jobId().equals(jobId) && x.round() == round);
    return s == null ? null : s.banks();
  }

  /** Every share as an accounting event: with the survivors this bank saw, or at its worst case. */
  List<PrivacyEvent> events() {
    List<PrivacyEvent> events = new ArrayList<>();
    for (Share s : shares) {
      List<String> banks = survivors(s.jobId(), s.round());
      events.add(banks == null || banks.size() < s.noise().threshold() ? s.noise().worstCaseEvent()
          : s.noise().event(banks.size()));
    }
    return events;
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
