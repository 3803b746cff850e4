package io.consort.privacy.ledger;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Per bank: epsilon per release (round) and running total, at record and bank level, as recorded in
 * the ledger. The figures are read from the entries; run {@link LedgerVerifier} first to know they are
 * authentic and correctly accounted.
 */
public final class LedgerReport {

  /**
   * One release as seen by one bank.
   *
   * @param sequence ledger sequence
   * @param jobId job
   * @param round round
   * @param spend the bank's spend in that entry
   */
  public record Row(long sequence, String jobId, long round, BankSpend spend) {}

  private final SortedMap<String, List<Row>> rowsByBank;
  /** Per bank, what its record-level releases protect against, as their mechanisms say (in ledger order). */
  private final SortedMap<String, java.util.Set<String>> guarantees;

  private LedgerReport(SortedMap<String, List<Row>> rowsByBank, SortedMap<String, java.util.Set<String>> guarantees) {
    this.rowsByBank = rowsByBank;
    this.guarantees = guarantees;
  }

  /**
   * The record-level guarantee a mechanism gives its bank's customers: local DP-SGD protects against
   * everyone; distributed noise against the coordinator with up to the colluders its accounting allows for
   * (docs/PRIVACY.md).
   */
  static String guarantee(MechanismRecord m) {
    if (m.kind() == MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN) {
      int colluders = m.survivors() - m.countedShares();
      return "distributed DP-SGD noise: holds against the coordinator with up to " + colluders + " colluding bank"
          + (colluders == 1 ? "" : "s") + " and anyone holding the model, not against more colluders";
    }
    return "local DP-SGD noise: holds against the coordinator, every other bank and anyone holding the model";
  }

  public static LedgerReport of(List<SignedLedgerEntry> entries) {
    SortedMap<String, List<Row>> rows = new TreeMap<>();
    SortedMap<String, java.util.Set<String>> guarantees = new TreeMap<>();
    for (SignedLedgerEntry signed : entries) {
      LedgerEntry e = signed.entry();
      for (MechanismRecord m : e.mechanisms()) {
        if (m.unit() == PrivacyUnit.RECORD) {
          guarantees.computeIfAbsent(m.bankId(), k -> new java.util.LinkedHashSet<>()).add(guarantee(m));
        }
      }
      for (Map.Entry<String, BankSpend> s : e.spends().entrySet()) {
        rows.computeIfAbsent(s.getKey(), k -> new ArrayList<>()).add(new Row(e.sequence(), e.jobId(), e.round(),
            s.getValue()));
      }
    }
    return new LedgerReport(rows, guarantees);
  }

  /** Rows per bank, in ledger order. */
  public SortedMap<String, List<Row>> rowsByBank() {
    return rowsByBank;
  }

  /** A plain-text table per bank. Values shown as "-" where the unit had no DP. */
  public String toText() {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, List<Row>> bank : rowsByBank.entrySet()) {
      List<Row> rows = bank.getValue();
      Row last = rows.get(rows.size() - 1);
      out.append("bank ").append(bank.getKey()).append(": ").append(rows.size()).append(" releases, record epsilon ")
          .append(format(last.spend().recordEpsilonTotal())).append(", bank epsilon ")
          .append(format(last.spend().bankEpsilonTotal())).append('\n');
      for (String g : guarantees.getOrDefault(bank.getKey(), java.util.Set.of())) {
        out.append("  record level, ").append(g).append('\n');
      }
      out.append(String.format(Locale.ROOT, "  %8s  %-20s %6s  %12s %12s  %12s %12s%n", "seq", "job", "round",
          "record/round", "record/total", "bank/round", "bank/total"));
      for (Row r : rows) {
        BankSpend s = r.spend();
        out.append(String.format(Locale.ROOT, "  %8d  %-20s %6d  %12s %12s  %12s %12s%n", r.sequence(), r.jobId(),
            r.round(), format(s.recordEpsilonRound()), format(s.recordEpsilonTotal()), format(s.bankEpsilonRound()),
            format(s.bankEpsilonTotal())));
      }
    }
    return out.toString();
  }

  static String format(Double value) {
    return value == null ? "-" : String.format(Locale.ROOT, "%.4f", value);
  }
}
