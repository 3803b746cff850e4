package io.consort.bench.secagg;

import io.consort.secagg.sim.SecAggSimulation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs {@link SecAggSimulation} over banks x dim x dropout and prints one JSON line per run, then a
 * Markdown table of medians. Each cell runs {@code repeats} times (default 3, or 1 for the largest
 * cells, which take tens of seconds each). Banks above {@code --secagg-plus-above} (default 50) use the
 * SecAgg+ graph with degree {@code --degree} (default 50).
 *
 * <pre>java -cp bench/target/benchmarks.jar io.consort.bench.secagg.SecAggGrid [--repeats 3]</pre>
 */
public final class SecAggGrid {
  private SecAggGrid() {
  }

  public static void main(String[] args) throws Exception {
    int repeats = 3;
    int plusAbove = 50;
    int degree = 50;
    int[] banksGrid = {5, 10, 50, 100};
    int[] dimGrid = {10_000, 100_000, 1_000_000};
    double[] dropoutGrid = {0.0, 0.1, 0.3};
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
        case "--secagg-plus-above" -> plusAbove = Integer.parseInt(args[i + 1]);
        case "--degree" -> degree = Integer.parseInt(args[i + 1]);
        case "--banks" -> banksGrid = parseInts(args[i + 1]);
        case "--dims" -> dimGrid = parseInts(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    List<String> table = new ArrayList<>();
    table.add("| banks | dim | dropout | graph | client s (median) | server s (median) | expansion | "
        + "mask/AES-CTR | sum ok |");
    table.add("|---|---|---|---|---|---|---|---|---|");
    for (int banks : banksGrid) {
      for (int dim : dimGrid) {
        for (double dropout : dropoutGrid) {
          int cellDegree = banks > plusAbove ? degree : 0;
          int cellRepeats = (long) banks * dim >= 50_000_000L ? 1 : repeats;
          List<SecAggSimulation.Report> reports = new ArrayList<>();
          for (int r = 0; r < cellRepeats; r++) {
            SecAggSimulation.Report report = SecAggSimulation.run(
                SecAggSimulation.Settings.of(banks, dim, dropout, cellDegree));
            System.out.println(report.toJson());
            reports.add(report);
          }
          table.add(String.format(Locale.ROOT, "| %d | %d | %.0f%% | %s | %.3f | %.3f | %.4f | %.2f | %s |",
              banks, dim, dropout * 100, cellDegree == 0 ? "complete" : "SecAgg+ k=" + cellDegree,
              SecAggSimulation.median(reports.stream().map(SecAggSimulation.Report::clientSeconds).toList()),
              SecAggSimulation.median(reports.stream().map(SecAggSimulation.Report::serverSeconds).toList()),
              SecAggSimulation.median(reports.stream().map(SecAggSimulation.Report::expansion).toList()),
              SecAggSimulation.median(reports.stream().map(SecAggSimulation.Report::maskToAesCtrRatio).toList()),
              reports.stream().allMatch(SecAggSimulation.Report::sumCorrect) ? "yes" : "NO"));
        }
      }
    }
    table.forEach(System.out::println);
  }

  private static int[] parseInts(String csv) {
    return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }
}
