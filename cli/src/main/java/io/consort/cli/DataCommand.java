package io.consort.cli;

import io.consort.model.data.DataProfile;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code consort data}: looking at a bank's data at the bank. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Look at a bank's data where it is.",
    subcommands = DataCommand.Profile.class)
public final class DataCommand {

  /**
   * {@code consort data profile}: per column its type, missing values, range or levels and suspected
   * sentinels, and a proposed {@code schema:} section (YAML) with preprocessing rules for a job file.
   * Runs at the bank; nothing leaves the machine: the output is for the operator, who decides what goes
   * into a job (the levels and ranges in its comments are the bank's own and are not part of the proposal).
   */
  @Command(name = "profile", mixinStandardHelpOptions = true,
      description = "Profile a bank's data locally and propose a job schema with preprocessing (nothing is sent).")
  static final class Profile implements Callable<Integer> {
    /** Levels printed per categorical column. */
    private static final int SHOWN_LEVELS = 8;

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    /** A file, or a query. */
    static final class Source {
      @Parameters(paramLabel = "FILE", description = "CSV or ARFF file with a header row")
      Path file;

      @ArgGroup(exclusive = false)
      Jdbc jdbc;
    }

    /** A JDBC data source and its query. */
    static final class Jdbc {
      @Option(names = "--jdbc", required = true, paramLabel = "URL",
          description = "JDBC URL of the bank's database (PostgreSQL and H2 drivers included)")
      String url;

      @Option(names = "--query", required = true, paramLabel = "SQL", description = "query that returns the rows")
      String query;

      @Option(names = "--user", paramLabel = "NAME", description = "database user, if not in the URL")
      String user;

      @Option(names = "--password-env", paramLabel = "VARIABLE",
          description = "environment variable holding the database password")
      String passwordEnv;
    }

    @Option(names = "--label", paramLabel = "COLUMN", description = "the label column (left out of the features)")
    String label;

    @Option(names = "--positive", paramLabel = "VALUE", description = "the label's positive class (the bad outcome)")
    String positive;

    @Override
    public Integer call() throws Exception {
      if (positive != null && label == null) {
        throw new IllegalArgumentException("--positive needs --label");
      }
      DataSource data = source.file != null ? DataSource.file(source.file) : query(source.jdbc);
      DataProfile profile = DataProfile.of(data, label, positive);
      PrintWriter out = spec.commandLine().getOut();
      print(out, profile);
      out.flush();
      return 0;
    }

    private static DataSource query(Jdbc jdbc) {
      Optional<String> password = Optional.empty();
      if (jdbc.passwordEnv != null) {
        String value = System.getenv(jdbc.passwordEnv);
        if (value == null) {
          throw new IllegalArgumentException("--password-env " + jdbc.passwordEnv + ": the variable is not set");
        }
        password = Optional.of(value);
      }
      return new DataSource.Query(jdbc.url, jdbc.query, Optional.ofNullable(jdbc.user), password);
    }

    static void print(PrintWriter out, DataProfile profile) {
      out.printf("# Profile of %s: %d rows, %d columns%s. Computed here; nothing was sent.%n", profile.source(),
          profile.rows(), profile.columns().size() + (profile.label().isPresent() ? 1 : 0),
          profile.label().map(l -> " (label " + l + ")").orElse(""));
      profile.label().ifPresent(l -> out.printf("# %s: %s%n", l, levels(profile.labelValues(), Integer.MAX_VALUE)));
      out.println("#");
      out.printf("# %-20s %-12s %-22s %s%n", "column", "type", "missing", "values");
      for (DataProfile.ColumnProfile c : profile.columns()) {
        String missing = c.missing() + c.sentinelRows() == 0 ? "0"
            : String.format(Locale.ROOT, "%d (%.1f%%)", c.missing() + c.sentinelRows(), 100 * c.missingRate());
        out.printf("# %-20s %-12s %-22s %s%n", c.name(), c.numeric() ? "numeric" : "categorical", missing,
            values(c));
      }
      Map<String, String> leftOut = profile.leftOut();
      if (!leftOut.isEmpty()) {
        out.println("#");
        leftOut.forEach((column, why) -> out.printf("# left out: %s (%s)%n", column, why));
      }
      out.println("#");
      if (profile.label().isEmpty() || profile.positiveClass().isEmpty()) {
        out.println("# No --label and --positive: no schema proposed. Run again with them.");
        return;
      }
      out.println("# Proposed schema: review every rule, then put it under job: in coordinator.yaml (the other");
      out.println("# banks' data decides the categories and every fill and clip bound: see docs/DATA.md).");
      DataSchema schema = profile.proposedSchema(DataProfile.Proposal.WITH_PREPROCESSING);
      out.print(StrictYaml.toYaml(Map.of("schema", JobYaml.schema(schema))));
    }

    private static String values(DataProfile.ColumnProfile c) {
      List<String> parts = new ArrayList<>();
      if (c.numeric()) {
        parts.add(number(c.min()) + " .. " + number(c.max()));
        if (c.median().isPresent()) {
          parts.add("p1 " + number(c.p01()) + ", median " + number(c.median()) + ", p99 " + number(c.p99()));
        }
        if (!c.suspectedSentinels().isEmpty()) {
          parts.add("suspected sentinel " + c.suspectedSentinels().stream().map(v -> number(OptionalDouble.of(v)))
              .toList());
        }
        if (c.heavyTailed()) {
          parts.add("heavy tail");
        }
      } else {
        parts.add((c.manyLevels() ? "more than " + DataProfile.MAX_LEVELS : Integer.toString(c.levels().size()))
            + " levels: " + levels(c.levels(), SHOWN_LEVELS));
      }
      if (!c.suspectedTextSentinels().isEmpty()) {
        parts.add("missing marker " + c.suspectedTextSentinels());
      }
      return String.join("; ", parts);
    }

    private static String levels(Map<String, Long> levels, int shown) {
      List<String> out = new ArrayList<>();
      levels.entrySet().stream().limit(shown).forEach(e -> out.add(e.getKey() + " " + e.getValue()));
      if (levels.size() > shown) {
        out.add("...");
      }
      return String.join(", ", out);
    }

    private static String number(OptionalDouble v) {
      if (v.isEmpty()) {
        return "-";
      }
      double d = v.getAsDouble();
      if (d == Math.rint(d) && Math.abs(d) < 1e15) {
        return Long.toString((long) d);
      }
      // four significant digits, without an exponent for the magnitudes bank data has
      java.math.BigDecimal rounded = new java.math.BigDecimal(d).round(new java.math.MathContext(4));
      return Math.abs(d) >= 1e-4 && Math.abs(d) < 1e15 ? rounded.stripTrailingZeros().toPlainString()
          : rounded.toString();
    }
  }
}
