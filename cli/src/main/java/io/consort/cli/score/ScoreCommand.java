package io.consort.cli.score;

import io.consort.scoring.Scorer;
import io.consort.scoring.rows.CsvRowSource;
import io.consort.scoring.rows.JdbcRowSource;
import io.consort.scoring.rows.RowSource;
import io.consort.scoring.rows.ScoringRun;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort score}: a bank scores its applications with a published model, in the bank. Each
 * row gets the calibrated probability of default, the decision at the model's threshold and its
 * top reason codes. A row that violates the job's schema is not scored: each of its problems is
 * printed (file, line, column, problem) and, with {@code --rejects}, written to a CSV; the exit
 * status is then {@value #SOME_ROWS_REFUSED}. A model file that fails its checks, a source without a
 * feature column or one that cannot be read stops the run with status 2 and no scores file.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
    description = "Score a bank's rows with a published model: probability of default, decision, reason codes.",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {"0:every row scored", "3:some rows refused (schema violations); the others scored",
        "2:nothing scored: bad model file, bad options, or a source that cannot be read"})
public final class ScoreCommand implements Callable<Integer> {
  /** Exit status when at least one row was refused and the others were scored. */
  public static final int SOME_ROWS_REFUSED = 3;
  /** Refused-row problems printed before the rest are only counted. */
  private static final int PRINTED_PROBLEMS = 20;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "FILE",
      description = "published model file (<job>-model.consort; version and SHA-256 checked)")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  /** Where the rows come from: a file, or a query. */
  static final class Source {
    @Option(names = "--data", paramLabel = "FILE", description = "CSV (or ARFF) file with a header row")
    Path data;

    @ArgGroup(exclusive = false)
    Jdbc jdbc;
  }

  /** A JDBC data source and its query. */
  static final class Jdbc {
    @Option(names = "--jdbc", required = true, paramLabel = "URL",
        description = "JDBC URL of the bank's database (a driver for it must be on the class path; H2 is)")
    String url;

    @Option(names = "--query", required = true, paramLabel = "SQL",
        description = "query whose columns are named like the job's schema (rename with AS)")
    String query;
  }

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "scores CSV to write")
  Path out;

  @Option(names = "--id", paramLabel = "COLUMN", description = "column copied into each scores line; repeatable")
  List<String> ids = new ArrayList<>();

  @Option(names = "--threshold", paramLabel = "P",
      description = "decline at this calibrated probability or more (default: the model's published threshold)")
  Double threshold;

  @Option(names = "--reasons", paramLabel = "N",
      description = "reason codes per row (0 for none, faster; default 3); a sequence model's are per channel, naming "
          + "the time step that contributed most")
  Integer reasons;

  @Option(names = "--rejects", paramLabel = "FILE",
      description = "also write every problem of every refused row to this CSV (source, position, column, problem)")
  Path rejects;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    if (reasons != null && reasons < 0) {
      throw new IllegalArgumentException("--reasons must be >= 0, got " + reasons);
    }
    // the native engine computes a sequence model (no DL4J is loaded), its reason codes from its input gradient
    Scorer scorer = Scorer.load(model);
    if (reasons != null) {
      scorer = scorer.withReasonCodes(reasons);
    }
    if (threshold != null) {
      scorer = scorer.withThreshold(threshold);
    }
    List<ScoringRun.Rejection> refused = new ArrayList<>();
    ScoringRun.Summary summary;
    Path absolute = out.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    Path tmp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
    try (RowSource rows = open(); Writer w = new BufferedWriter(Files.newBufferedWriter(tmp))) {
      summary = ScoringRun.run(scorer, rows, ids, w, rejection -> {
        if (refused.size() < PRINTED_PROBLEMS) {
          stderr.println("refused: " + rejection);
        }
        refused.add(rejection);
      });
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    if (refused.size() > PRINTED_PROBLEMS) {
      stderr.printf("refused: ... and %d more problems%s%n", refused.size() - PRINTED_PROBLEMS,
          rejects == null ? " (--rejects FILE lists them all)" : "");
    }
    if (rejects != null) {
      writeRejects(refused);
    }
    print(stdout, scorer, summary);
    stderr.flush();
    return summary.refused() > 0 ? SOME_ROWS_REFUSED : 0;
  }

  private RowSource open() throws IOException {
    return source.data != null ? CsvRowSource.open(source.data) : JdbcRowSource.open(source.jdbc.url,
        source.jdbc.query);
  }

  private void writeRejects(List<ScoringRun.Rejection> refused) throws IOException {
    try (Writer w = Files.newBufferedWriter(rejects)) {
      w.write("source,position,line_or_row,column,problem\n");
      for (ScoringRun.Rejection r : refused) {
        w.write(String.join(",", csv(r.source()), r.positionName(), Long.toString(r.position()),
            csv(r.problem().column() == null ? "" : r.problem().column()), csv(r.problem().problem())) + "\n");
      }
    }
  }

  private static String csv(String value) {
    return value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 ? value
        : '"' + value.replace("\"", "\"\"") + '"';
  }

  private static String describe(io.consort.model.train.ModelSpec spec) {
    if (spec.type().isSequence()) {
      return spec.type().wireName() + " (" + (spec.nativeKernel() ? "native engine" : "DL4J")
          + ", reason codes per channel), head " + spec.hiddenLayers();
    }
    return spec.hiddenLayers().isEmpty() ? "logistic regression" : "MLP " + spec.hiddenLayers() + " "
        + spec.activation().wireName() + (spec.dropout() > 0 ? ", dropout " + spec.dropout() : "");
  }

  private void print(PrintWriter o, Scorer scorer, ScoringRun.Summary s) {
    var m = scorer.model();
    o.printf(Locale.ROOT, "model: job '%s', %s, calibration %s, file SHA-256 %s%n", m.spec().id(),
        describe(m.spec().model()),
        m.calibration().method().name().toLowerCase(Locale.ROOT), m.fileSha256());
    o.printf(Locale.ROOT, "scored %d of %d rows (%d refused); %d declined, %d approved at threshold %.4f%s%n",
        s.scored(), s.rows(), s.refused(), s.declined(), s.scored() - s.declined(), scorer.threshold(),
        threshold != null ? " (--threshold)" : m.spec().evaluation().costMatrix().isPresent()
            ? " (the job's cost matrix)" : "");
    s.labelled().ifPresent(l -> {
      o.printf(Locale.ROOT, "labelled rows (%s present): %d, %d '%s'; AUC %.4f; log-loss %.4f calibrated, %.4f "
              + "model's own; Brier %.4f calibrated, %.4f model's own; accuracy at the threshold %.4f%n",
          m.spec().schema().labelColumn(), l.rows(), l.positives(), m.spec().schema().positiveClass(), l.auc(),
          l.logLoss(), l.modelLogLoss(), l.brier(), l.modelBrier(), l.accuracy());
      l.expectedCost().ifPresent(c -> o.printf(Locale.ROOT, "expected cost per applicant of these decisions: %.4f%n",
          c));
    });
    double[] mean = s.meanAbsoluteContribution();
    if (mean.length > 0 && s.scored() > 0) {
      List<Integer> order = IntStream.range(0, mean.length).boxed()
          .sorted(Comparator.comparingDouble((Integer c) -> mean[c]).reversed()).limit(5).toList();
      o.println("columns that moved these rows' scores most (mean |contribution|, calibrated logit): "
          + String.join(", ", order.stream().map(c -> String.format(Locale.ROOT, "%s %.3f", s.columns().get(c),
              mean[c])).toList()));
    }
    o.println("scores: " + out);
    o.flush();
  }
}
