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

  private LedgerReport(SortedMap<String, List<Row>> rowsByBank) {
    this.rowsByBank = rowsByBank;
  }

  public static LedgerReport of(List<SignedLedgerEntry> entries) {
    SortedMap<String, List<Row>> rows = new TreeMap<>();
    for (SignedLedgerEntry signed : entries) {
      LedgerEntry e = signed.entry();
      for (Map.Entry<String, BankSpend> s : e.spends().entrySet()) {
        rows.computeIfAbsent(s.getKey(), k -> new ArrayList<>()).add(new Row(e.sequence(), e.jobId(), e.round(),
            s.getValue()));
      }
    }
    return new LedgerReport(rows);
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
