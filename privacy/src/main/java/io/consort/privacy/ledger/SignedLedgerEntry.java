package io.consort.privacy.ledger;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A ledger entry with its hash, the coordinator's signature and the banks' countersignatures (kept
 * sorted by bank id). Immutable; {@link #withCountersignature} returns a new instance.
 *
 * @param entry the entry
 * @param entryHash {@link LedgerEntry#hash()} as recorded (the verifier recomputes it)
 * @param coordinatorSignature over the entry hash
 * @param countersignatures one per bank that has countersigned its spend
 */
public record SignedLedgerEntry(LedgerEntry entry, String entryHash, LedgerSignature coordinatorSignature,
    List<LedgerSignature> countersignatures) {

  public SignedLedgerEntry {
    Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(entryHash, "entryHash");
    Objects.requireNonNull(coordinatorSignature, "coordinatorSignature");
    List<LedgerSignature> sorted = new ArrayList<>(countersignatures);
    sorted.sort(Comparator.comparing(LedgerSignature::signerId));
    countersignatures = List.copyOf(sorted);
  }

  /** Adds (or replaces) the countersignature of {@code countersignature.signerId()}. */
  public SignedLedgerEntry withCountersignature(LedgerSignature countersignature) {
    if (!entry.participatingBanks().contains(countersignature.signerId())) {
      throw new IllegalArgumentException("countersigner must be a participating bank of entry " + entry.sequence()
          + ", got " + countersignature.signerId());
    }
    List<LedgerSignature> updated = new ArrayList<>();
    for (LedgerSignature existing : countersignatures) {
      if (!existing.signerId().equals(countersignature.signerId())) {
        updated.add(existing);
      }
    }
    updated.add(countersignature);
    return new SignedLedgerEntry(entry, entryHash, coordinatorSignature, updated);
  }

  /** Whether every participating bank has countersigned. */
  public boolean fullyCountersigned() {
    return countersignatures.stream().map(LedgerSignature::signerId).toList().equals(entry.participatingBanks());
  }
}
