package io.consort.privacy.ledger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;

/**
 * The coordinator's append-only ledger: builds the next entry (sequence, previous hash, per-bank spends
 * from the composed history), and appends signed entries only in order and only when the chain holds.
 * Persistence is the caller's (the coordinator's store); {@link #resume} rebuilds the state from the
 * stored entries after a restart. Not thread-safe: one round appends at a time.
 */
public final class PrivacyLedger {

  private final List<SignedLedgerEntry> entries = new ArrayList<>();
  private final SpendCalculator spends = new SpendCalculator();

  /** An empty ledger. */
  public PrivacyLedger() {}

  /** Rebuilds a ledger from stored entries, checking sequence and hash chain. */
  public static PrivacyLedger resume(List<SignedLedgerEntry> stored) {
    PrivacyLedger ledger = new PrivacyLedger();
    for (SignedLedgerEntry entry : stored) {
      ledger.append(entry);
    }
    return ledger;
  }

  /**
   * Builds the next entry. Spends are computed from this ledger's history plus {@code mechanisms}.
   *
   * @param participatingBanks banks whose updates are in the released sum
   * @param modelChecksum SHA-256 of the released model, lowercase hex
   */
  public LedgerEntry nextEntry(String jobId, long round, Instant timestamp, List<String> participatingBanks,
      double delta, List<MechanismRecord> mechanisms, String modelChecksum) {
    List<String> sortedBanks = new ArrayList<>(participatingBanks);
    Collections.sort(sortedBanks);
    SortedMap<String, BankSpend> next = spends.preview(sortedBanks, mechanisms, delta);
    return new LedgerEntry(entries.size() + 1L, jobId, round, timestamp, sortedBanks, delta,
        SpendCalculator.ACCOUNTING, mechanisms, next, modelChecksum, headHash());
  }

  /**
   * Appends a signed entry built by {@link #nextEntry} on this ledger's current head.
   *
   * @throws IllegalArgumentException if the sequence, previous hash, recorded hash or spends do not
   *     follow from the current head
   */
  public void append(SignedLedgerEntry signed) {
    Objects.requireNonNull(signed, "signed");
    LedgerEntry entry = signed.entry();
    long expected = entries.size() + 1L;
    if (entry.sequence() != expected) {
      throw new IllegalArgumentException("entry sequence must be " + expected + ", got " + entry.sequence());
    }
    if (!entry.previousHash().equals(headHash())) {
      throw new IllegalArgumentException("entry previous hash must be " + headHash() + ", got " + entry.previousHash());
    }
    if (!entry.hash().equals(signed.entryHash())) {
      throw new IllegalArgumentException("recorded entry hash must be " + entry.hash() + ", got " + signed.entryHash());
    }
    if (!SpendCalculator.isKnown(entry.accounting())) {
      throw new IllegalArgumentException("entry " + entry.sequence() + " names unknown accounting \""
          + entry.accounting() + "\"");
    }
    SortedMap<String, BankSpend> recomputed = spends.preview(entry.accounting(), entry.participatingBanks(),
        entry.mechanisms(), entry.delta());
    if (!recomputed.equals(entry.spends())) {
      throw new IllegalArgumentException("entry " + entry.sequence() + " spends must be " + recomputed + ", got "
          + entry.spends());
    }
    spends.apply(entry.accounting(), entry.participatingBanks(), entry.mechanisms(), entry.delta());
    entries.add(signed);
  }

  /**
   * Replaces the last entry with the same entry carrying more countersignatures (they arrive after the
   * coordinator signs). The entry itself cannot change.
   */
  public void updateCountersignatures(SignedLedgerEntry withMore) {
    if (entries.isEmpty()) {
      throw new IllegalStateException("ledger is empty");
    }
    SignedLedgerEntry last = entries.get(entries.size() - 1);
    if (!last.entry().equals(withMore.entry()) || !last.entryHash().equals(withMore.entryHash())
        || !last.coordinatorSignature().equals(withMore.coordinatorSignature())) {
      throw new IllegalArgumentException("only the countersignatures of the last entry may change, got entry "
          + withMore.entry().sequence());
    }
    entries.set(entries.size() - 1, withMore);
  }

  /** Hash of the last entry, or {@link LedgerEntry#GENESIS_HASH}. */
  public String headHash() {
    return entries.isEmpty() ? LedgerEntry.GENESIS_HASH : entries.get(entries.size() - 1).entryHash();
  }

  /** The entries, oldest first (unmodifiable). */
  public List<SignedLedgerEntry> entries() {
    return List.copyOf(entries);
  }
}
