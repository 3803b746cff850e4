package io.consort.cli.audit;

import io.consort.cli.option.OptionValues;
import io.consort.privacy.ledger.BankTotals;
import io.consort.privacy.ledger.CumulativeEpsilonChart;
import io.consort.privacy.ledger.LedgerExport;
import io.consort.privacy.ledger.LedgerFormatException;
import io.consort.privacy.ledger.LedgerReport;
import io.consort.privacy.ledger.LedgerVerifier;
import io.consort.privacy.ledger.PrivacyUnit;
import io.consort.privacy.ledger.VerificationResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort audit}: read-only tools for the privacy auditor. {@code verify} checks an exported
 * ledger offline against the consortium CA; {@code report} prints per-bank epsilon and draws a chart.
 * ({@code audit export} needs the coordinator's database and is wired by the coordinator module via
 * {@link LedgerExport#write}.)
 */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Verify and report on the privacy ledger.",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Report.class, io.consort.cli.AuditExportCommand.class})
public final class AuditCommand implements Runnable {

  /** Exit status when the ledger fails verification or cannot be read. */
  static final int LEDGER_INVALID = 1;
  /** Exit status for a bad argument (e.g. unreadable CA file). */
  static final int BAD_ARGUMENT = 2;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = "Verify hash chain, signatures, certificates and accounting; print per-bank totals.")
  static final class Verify implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--ledger", required = true, description = "Exported ledger (JSON).")
    Path ledger;

    @Option(names = "--ca", required = true, description = "Consortium CA certificate (PEM or DER).")
    Path ca;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      X509Certificate caCert;
      try {
        caCert = readCertificate(ca);
      } catch (IOException | CertificateException e) {
        err.println("error: --ca " + ca + " is not a readable X.509 certificate (" + e.getMessage() + ")");
        return BAD_ARGUMENT;
      }
      VerificationResult result = LedgerVerifier.verify(ledger, caCert);
      if (!result.valid()) {
        err.println("ledger INVALID: " + result.failure().orElse("unknown failure"));
        return LEDGER_INVALID;
      }
      out.println("ledger OK: " + result.entryCount() + " entries, hash chain intact, all signatures valid"
          + (result.headSigned() ? ", head signed" : " (head not signed: removal of trailing entries is not detectable"
              + " from this file alone)"));
      for (BankTotals t : result.totals().values()) {
        out.println(String.format(Locale.ROOT, "%s releases=%d record_epsilon=%s bank_epsilon=%s delta=%s", t.bankId(),
            t.releases(), show(t.recordEpsilon()), show(t.bankEpsilon()), t.delta()));
      }
      return 0;
    }
  }

  @Command(name = "report", mixinStandardHelpOptions = true,
      description = "Per bank: epsilon per round and total; optionally an SVG chart of cumulative epsilon. "
          + "Reads the figures as recorded; run 'audit verify' to check them.")
  static final class Report implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--ledger", required = true, description = "Exported ledger (JSON).")
    Path ledger;

    @Option(names = "--chart", description = "Write an SVG chart of cumulative epsilon per bank here.")
    Path chart;

    @Option(names = "--unit", defaultValue = "record", converter = OptionValues.PrivacyUnits.class,
        completionCandidates = OptionValues.PrivacyUnits.class,
        description = "Privacy unit to chart: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    PrivacyUnit unit;

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      LedgerReport report;
      try {
        report = LedgerReport.of(LedgerExport.read(ledger).entries());
      } catch (LedgerFormatException e) {
        err.println("ledger INVALID: " + e.getMessage());
        return LEDGER_INVALID;
      } catch (IOException e) {
        err.println("error: cannot read " + ledger + " (" + e.getMessage() + ")");
        return LEDGER_INVALID;
      }
      spec.commandLine().getOut().print(report.toText());
      spec.commandLine().getOut().flush();
      if (chart != null) {
        try {
          Files.writeString(chart, CumulativeEpsilonChart.svg(report, unit), StandardCharsets.UTF_8);
        } catch (IOException e) {
          err.println("error: cannot write chart " + chart + " (" + e.getMessage() + ")");
          return BAD_ARGUMENT;
        }
      }
      return 0;
    }
  }

  static X509Certificate readCertificate(Path file) throws IOException, CertificateException {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static String show(Double epsilon) {
    return epsilon == null ? "none(no-DP)" : String.format(Locale.ROOT, "%.4f", epsilon);
  }
}
