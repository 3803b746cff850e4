package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.SplitStrategy;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.spec.PrivacyMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Options that take one of a few values: picocli converts them, lists the values in help and refuses any
 * other value with its own message and exit status 2, before the demo creates anything.
 */
class DemoOptionsTest {
  @TempDir
  Path dir;

  private record Run(int status, String out, String err) {
    String firstErrorLine() {
      return err.lines().findFirst().orElse("");
    }
  }

  private Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    List<String> all = new ArrayList<>(List.of(args));
    if (args.length > 0 && args[0].equals("demo")) {
      all.addAll(List.of("--work-dir", dir.resolve("w").toString()));
    }
    int status = cl.execute(all.toArray(String[]::new));
    return new Run(status, out.toString(), err.toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "--dp|maybe|Invalid value for option '--dp': expected one of [record, bank, both, off] (case-sensitive) but was 'maybe'",
      "--secure-aggregation|yes|Invalid value for option '--secure-aggregation': expected one of [on, off] (case-sensitive) but was 'yes'",
      "--model|transformer|Invalid value for option '--model': expected one of [mlp, logistic-regression, lstm, simple-rnn, cnn1d, attention] (case-sensitive) but was 'transformer'",
      "--engine|cuda|Invalid value for option '--engine': expected one of [dl4j, native] (case-sensitive) but was 'cuda'",
      "--split|random|Invalid value for option '--split': unknown split 'random'; expected iid, label-skew, dirichlet:ALPHA or by-column:COLUMN",
      "--split|by-column:|Invalid value for option '--split': unknown split 'by-column:'; expected iid, label-skew, dirichlet:ALPHA or by-column:COLUMN",
      "--drop|bank-2@lunch|Invalid value for option '--drop' (BANK@STAGE): unknown stage 'lunch' in 'bank-2@lunch'; expected one of [job-offer, feature-stats, train, evaluate, share-keys, masked-input, consistency-check, unmasking, finished, ledger-countersign]",
      "--drop|bank2@train|Invalid value for option '--drop' (BANK@STAGE): expected BANK@STAGE with BANK bank-1, bank-2, ..., e.g. bank-2@masked-input, but was 'bank2@train'",
      "--drop|bank-0@train|Invalid value for option '--drop' (BANK@STAGE): expected BANK@STAGE with BANK bank-1, bank-2, ..., e.g. bank-2@masked-input, but was 'bank-0@train'",
      "--banks|three|Invalid value for option '--banks': 'three' is not an int",
      "--epsilon|lots|Invalid value for option '--epsilon': 'lots' is not a double",
      "--restart-coordinator-at|two|Invalid value for option '--restart-coordinator-at': 'two' is not ROUND[:STAGE] (e.g. 2 or 2:masked-input)",
      "--restart-coordinator-at|0|Invalid value for option '--restart-coordinator-at': the round must be 1 or more, got 0",
      "--restart-coordinator-at|2:lunch|Invalid value for option '--restart-coordinator-at': unknown stage 'lunch'; the stages of a round are train, advertise-keys, share-keys, masked-input, consistency-check, unmasking, ledger-countersign, evaluate",
  })
  void demo_refusesBadOptionValue_withPicocliMessageAndStatus2(String option, String value, String message) {
    Run r = run("demo", option, value);
    assertEquals(2, r.status());
    assertEquals(message, r.firstErrorLine());
    assertFalse(Files.exists(dir.resolve("w")), "nothing was created");
  }

  @Test
  void demo_refusesDropOfBankOutOfRange_beforeStartingAnything() {
    Run r = run("demo", "--banks", "3", "--drop", "bank-4@train");
    assertEquals(2, r.status());
    assertEquals("error: --drop bank-4@train: no such bank (banks are bank-1 .. bank-3)", r.err().trim());
    assertFalse(Files.exists(dir.resolve("w")), "nothing was created");
  }

  @Test
  void demo_refusesACostMatrixThatIsNotTwoCosts_beforeStartingAnything() {
    for (String bad : new String[] {"5", "5:x", "5:1:2", "-1:1", "0:0"}) {
      Run r = run("demo", "--costs", bad);
      assertEquals(2, r.status(), bad);
      assertTrue(r.err().startsWith("error: --costs"), r.err());
      assertFalse(Files.exists(dir.resolve("w")), "nothing was created");
    }
  }

  @Test
  void demo_refusesAnUnknownRecordNoise_andSeveralLocalEpochsWithDistributedNoise() {
    Run r = run("demo", "--record-noise", "shared");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--record-noise must be local or distributed, got 'shared'"), r.err());
    Run epochs = run("demo", "--local-epochs", "2");
    assertEquals(2, epochs.status());
    assertTrue(epochs.err().contains("--local-epochs must be 1 with --record-noise distributed"), epochs.err());
  }

  @Test
  void demo_refusesMarketOptionsThatDoNotFit_beforeStartingAnything() {
    Run r = run("demo", "--model", "lstm");
    assertEquals(2, r.status());
    assertEquals("error: --model lstm reads a window of a time series: use it with --task market", r.err().trim());
    r = run("demo", "--task", "market", "--window", "251");
    assertEquals(2, r.status());
    assertEquals("error: --window: window 251 is longer than the series aapl allows: it has 252 bars, and a window "
        + "needs window + 2 (returns need the bar before, the target the bar after)", r.err().trim());
    r = run("demo", "--task", "market", "--market-split", "asset", "--banks", "2");
    assertEquals(2, r.status());
    assertEquals("error: --market-split asset gives each bank one asset: --banks must be 3, got 2", r.err().trim());
    r = run("demo", "--target", "return");
    assertEquals(2, r.status());
    assertEquals("error: --target applies to --task market", r.err().trim());
    r = run("demo", "--task", "market", "--target", "sideways");
    assertEquals(2, r.status());
    assertEquals("error: --target must be direction or return, got 'sideways'", r.err().trim());
    assertFalse(Files.exists(dir.resolve("w")), "nothing was created");
  }

  @Test
  void demo_refusesKeyRoundsAboveOne_withoutUnmaskingWithInput_beforeCreatingAnything() {
    Run r = run("demo", "--key-rounds", "4");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--key-rounds 4 needs --unmasking with-input"), r.err());
    assertFalse(Files.exists(dir.resolve("w")), "nothing was created");
  }

  @Test
  void demo_refusesBankLevelPrivacyWithoutSecureAggregation() {
    Run r = run("demo", "--dp", "both", "--secure-aggregation", "off");
    assertEquals(2, r.status());
    assertEquals("error: --dp both needs secure aggregation (bank-level noise shares are added under masking)",
        r.err().trim());
  }

  @Test
  void demo_refusesARestartAtAnEvaluateStageThatNeverOpens_underSecureAggregation() {
    Run r = run("demo", "--rounds", "4", "--restart-coordinator-at", "2:evaluate");
    assertEquals(2, r.status());
    assertEquals("error: --restart-coordinator-at 2:evaluate: under secure aggregation only the last round (4) has an "
        + "evaluate stage; every other round's model is evaluated in the next round's secure sum", r.err().trim());
  }

  @Test
  void demo_convertsEachOptionToItsType_acceptingLogregForShort() {
    CommandLine.ParseResult p = Main.commandLine().parseArgs("demo", "--dp", "both", "--secure-aggregation", "off",
        "--model", "logreg", "--engine", "native", "--split", "by-column:region", "--drop", "bank-2@masked-input",
        "--drop", "bank-1@train").subcommand();
    assertEquals(PrivacyMode.BOTH, p.matchedOptionValue("--dp", null));
    assertEquals(ModelType.LOGISTIC_REGRESSION, p.matchedOptionValue("--model", null));
    assertEquals(TrainingEngine.NATIVE, p.matchedOptionValue("--engine", null));
    assertEquals(new SplitStrategy.ByColumn("region"), p.matchedOptionValue("--split", null));
    assertEquals("[bank-2@masked-input, bank-1@train]", p.matchedOptionValue("--drop", List.of()).toString());
    assertEquals("OFF", p.matchedOptionValue("--secure-aggregation", null).toString());
  }

  @Test
  void demoHelp_listsTheAllowedValues() {
    Run r = run("demo", "--help");
    assertEquals(0, r.status(), r.err());
    String help = r.out().replaceAll("\\s+", " ");
    for (String values : new String[] {"record, bank, both, off", "mlp, logistic-regression", "dl4j, native",
        "iid, label-skew, dirichlet:ALPHA, by-column:COL", "on, off", "train, evaluate, share-keys, masked-input"}) {
      assertTrue(help.contains(values), values + " in " + help);
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "privacy epsilon --noise-multiplier 1 --sampling-rate 0.1 --steps 3 --delta 1e-5 --conversion exact|Invalid value for option '--conversion': expected one of [improved, classic] (case-sensitive) but was 'exact'",
      "audit report --ledger l.json --unit customer|Invalid value for option '--unit': expected one of [record, bank] (case-sensitive) but was 'customer'",
      "certs init-ca --algorithm dsa|Invalid value for option '--algorithm': expected one of [ec-p256, rsa-3072, ed25519] (case-sensitive) but was 'dsa'",
      "certs sign --csr csr.pem --role admin|Invalid value for option '--role': expected one of [participant, coordinator, operator, auditor] (case-sensitive) but was 'admin'",
      "certs revoke --name bank-a --reason lost|Invalid value for option '--reason': expected one of [unspecified, key-compromise, affiliation-changed, superseded, cessation-of-operation] (case-sensitive) but was 'lost'",
  })
  void toolCommands_refuseBadOptionValue_withPicocliMessageAndStatus2(String args, String message) {
    Run r = run(args.split(" "));
    assertEquals(2, r.status());
    assertEquals(message, r.firstErrorLine());
  }
}
