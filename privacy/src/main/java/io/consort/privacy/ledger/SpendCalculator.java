package io.consort.privacy.ledger;

import io.consort.privacy.accounting.RdpAccountant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Computes each bank's spend entry by entry, keeping every bank's composed RDP curve per unit so that
 * each entry costs one evaluation per mechanism rather than a replay of the whole history. Used by the
 * coordinator to fill new entries, by the verifier to re-account a ledger, and by a bank to check the
 * spend it is asked to countersign.
 */
public final class SpendCalculator {

  /**
   * The accounting new entries follow: RDP composition, default orders (1.1..10.9, 11..63, 128, 256,
   * 512, 1024), improved conversion; a distributed discrete Gaussian with m survivors is accounted
   * with the shares of m - 1 banks, because any one participating bank knows its own share and can
   * remove it from the sum.
   */
  public static final String ACCOUNTING = "rdp-improved-default-orders-v2";

  /**
   * The accounting of entries written before v2: as v2, but a distributed discrete Gaussian counts the
   * shares of all m survivors (secure against the coordinator alone). Such entries keep verifying
   * under it; no new entry uses it.
   */
  public static final String ACCOUNTING_V1 = "rdp-improved-default-orders-v1";

  /** Whether spends recorded under {@code accounting} can be re-accounted by this version. */
  public static boolean isKnown(String accounting) {
    return ACCOUNTING.equals(accounting) || ACCOUNTING_V1.equals(accounting);
  }

  static void requireKnown(String accounting) {
    if (!isKnown(accounting)) {
      throw new IllegalArgumentException("unknown accounting \"" + accounting + "\" (expected " + ACCOUNTING
          + " or " + ACCOUNTING_V1 + ")");
    }
  }

  private final RdpAccountant accountant = RdpAccountant.defaults();
  private final Map<String, double[]> recordRdp = new HashMap<>();
  private final Map<String, double[]> bankRdp = new HashMap<>();

  /** Spends after all of {@code entries}, applied in order (a bank replaying its local copy). */
  public static SpendCalculator replay(List<LedgerEntry> entries) {
    SpendCalculator calculator = new SpendCalculator();
    for (LedgerEntry entry : entries) {
      calculator.apply(entry.accounting(), entry.participatingBanks(), entry.mechanisms(), entry.delta());
    }
    return calculator;
  }

  /** What the next entry's spends would be under the current {@link #ACCOUNTING}, without recording them. */
  public SortedMap<String, BankSpend> preview(List<String> banks, List<MechanismRecord> mechanisms, double delta) {
    return preview(ACCOUNTING, banks, mechanisms, delta);
  }

  /** What an entry's spends are under {@code accounting}, without recording them. */
  public SortedMap<String, BankSpend> preview(String accounting, List<String> banks, List<MechanismRecord> mechanisms,
      double delta) {
    return compute(accounting, banks, mechanisms, delta, false);
  }

  /** Records one entry's mechanisms, accounted as the entry says, and returns each participating bank's spend. */
  public SortedMap<String, BankSpend> apply(String accounting, List<String> banks, List<MechanismRecord> mechanisms,
      double delta) {
    return compute(accounting, banks, mechanisms, delta, true);
  }

  private SortedMap<String, BankSpend> compute(String accounting, List<String> banks,
      List<MechanismRecord> mechanisms, double delta, boolean record) {
    requireKnown(accounting);
    int orders = accountant.orders().size();
    SortedMap<String, BankSpend> spends = new TreeMap<>();
    for (String bank : banks) {
      double[] recordRound = null;
      double[] bankRound = null;
      for (MechanismRecord m : mechanisms) {
        if (!m.appliesTo(bank)) {
          continue;
        }
        double[] target;
        if (m.unit() == PrivacyUnit.RECORD) {
          recordRound = recordRound == null ? new double[orders] : recordRound;
          target = recordRound;
        } else {
          bankRound = bankRound == null ? new double[orders] : bankRound;
          target = bankRound;
        }
        double[] curve = accountant.rdp(m.toEvent(accounting));
        for (int i = 0; i < orders; i++) {
          target[i] += curve[i];
        }
      }
      Double[] record2 = unit(recordRdp, bank, recordRound, delta, record);
      Double[] bank2 = unit(bankRdp, bank, bankRound, delta, record);
      spends.put(bank, new BankSpend(record2[0], record2[1], bank2[0], bank2[1]));
    }
    return spends;
  }

  /** {round epsilon, total epsilon} for one unit, nulls where the unit has no DP. */
  private Double[] unit(Map<String, double[]> totals, String bank, double[] round, double delta, boolean record) {
    double[] before = totals.get(bank);
    if (round == null) {
      return new Double[] {null, before == null ? null : accountant.fromRdp(before, delta).epsilon()};
    }
    double[] after = round.clone();
    if (before != null) {
      for (int i = 0; i < after.length; i++) {
        after[i] += before[i];
      }
    }
    if (record) {
      totals.put(bank, after);
    }
    return new Double[] {accountant.fromRdp(round, delta).epsilon(), accountant.fromRdp(after, delta).epsilon()};
  }
}
