package io.consort.privacy.ledger;

import io.consort.privacy.DpPreconditions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * One release in the privacy ledger. Immutable; lists are copied, banks sorted, spends keyed in sorted
 * order, and the timestamp truncated to milliseconds so that the JSON form round-trips exactly to the
 * same {@link CanonicalEncoding}.
 *
 * @param sequence 1 for the first entry, then +1 per entry
 * @param jobId the federated job
 * @param round the round within the job
 * @param timestamp when the release was made (millisecond precision)
 * @param participatingBanks banks whose updates are in the released sum, sorted
 * @param delta the delta every epsilon in the entry is stated at
 * @param accounting how the spends were computed; see {@link SpendCalculator#ACCOUNTING}
 * @param mechanisms the mechanisms applied
 * @param spends each participating bank's spend
 * @param modelChecksum SHA-256 of the released model, lowercase hex
 * @param previousHash hash of the previous entry, lowercase hex (64 zeros for the first)
 */
public record LedgerEntry(long sequence, String jobId, long round, Instant timestamp, List<String> participatingBanks,
    double delta, String accounting, List<MechanismRecord> mechanisms, SortedMap<String, BankSpend> spends,
    String modelChecksum, String previousHash) {

  /** previousHash of the first entry. */
  public static final String GENESIS_HASH = "0".repeat(64);

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  public LedgerEntry {
    if (sequence < 1) {
      throw new IllegalArgumentException("sequence must be >= 1, got " + sequence);
    }
    requireText("job id", jobId);
    if (round < 0) {
      throw new IllegalArgumentException("round must be >= 0, got " + round);
    }
    timestamp = Objects.requireNonNull(timestamp, "timestamp").truncatedTo(ChronoUnit.MILLIS);
    TreeSet<String> banks = new TreeSet<>();
    for (String bank : Objects.requireNonNull(participatingBanks, "participatingBanks")) {
      requireText("bank id", bank);
      if (!banks.add(bank)) {
        throw new IllegalArgumentException("participating banks must be distinct, got " + bank + " twice");
      }
    }
    participatingBanks = List.copyOf(banks);
    DpPreconditions.checkDelta(delta);
    requireText("accounting", accounting);
    mechanisms = List.copyOf(mechanisms);
    for (MechanismRecord m : mechanisms) {
      if (!MechanismRecord.ALL_PARTICIPANTS.equals(m.bankId()) && !banks.contains(m.bankId())) {
        throw new IllegalArgumentException("mechanism names bank " + m.bankId() + " which is not participating");
      }
    }
    spends = Collections.unmodifiableSortedMap(new TreeMap<>(spends));
    if (!spends.keySet().equals(banks)) {
      throw new IllegalArgumentException("spends must name exactly the participating banks " + banks + ", got "
          + spends.keySet());
    }
    requireHash("model checksum", modelChecksum);
    requireHash("previous hash", previousHash);
  }

  private static void requireText(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " must be non-empty, got " + (value == null ? "null" : "\"" + value + "\""));
    }
  }

  private static void requireHash(String name, String value) {
    if (value == null || !SHA256_HEX.matcher(value).matches()) {
      throw new IllegalArgumentException(name + " must be 64 lowercase hex digits, got " + value);
    }
  }

  /** The mechanisms whose loss falls on {@code bank}. */
  public List<MechanismRecord> mechanismsFor(String bank) {
    List<MechanismRecord> result = new ArrayList<>();
    for (MechanismRecord m : mechanisms) {
      if (m.appliesTo(bank)) {
        result.add(m);
      }
    }
    return result;
  }

  /** The deterministic bytes that are hashed; see {@link CanonicalEncoding}. */
  public byte[] canonicalBytes() {
    return CanonicalEncoding.entry(this);
  }

  /** SHA-256(previousHash bytes || canonicalBytes), lowercase hex. */
  public String hash() {
    return Hex.encode(CanonicalEncoding.sha256(Hex.decode(previousHash), canonicalBytes()));
  }

  /** Summary without spends' detail; nothing secret lives in an entry, but keep logs short. */
  @Override
  public String toString() {
    return "LedgerEntry[sequence=" + sequence + ", job=" + jobId + ", round=" + round + ", banks="
        + participatingBanks + "]";
  }

  /** Convenience for building spends in insertion order. */
  static SortedMap<String, BankSpend> sorted(Map<String, BankSpend> spends) {
    return new TreeMap<>(spends);
  }
}
