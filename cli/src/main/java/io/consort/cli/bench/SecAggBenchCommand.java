package io.consort.cli.bench;

import io.consort.secagg.sim.SecAggSimulation;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code consort bench secagg}: runs one in-memory secure-aggregation round with
 * {@link SecAggSimulation} and prints its measurements as JSON (always JSON; {@code --json} is
 * accepted for symmetry with the other bench commands).
 */
@Command(name = "secagg", mixinStandardHelpOptions = true,
    description = "Measure one in-memory secure-aggregation round (Bonawitz et al. 2017; SecAgg+ with --degree).")
public final class SecAggBenchCommand implements Callable<Integer> {
  @Option(names = "--banks", required = true, description = "Number of banks (2 to 10000).")
  int banks;

  @Option(names = "--dim", required = true, description = "Update dimension (values per bank).")
  int dim;

  @Option(names = "--dropout", defaultValue = "0", description = "Fraction of banks dropping at masked-input, in [0, 1). Default: ${DEFAULT-VALUE}.")
  double dropout;

  @Option(names = "--degree", defaultValue = "0", description = "SecAgg+ neighbour degree; 0 = complete graph. Default: ${DEFAULT-VALUE}.")
  int degree;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--json", description = "Print JSON (the only output format).")
  boolean json;

  @Override
  public Integer call() throws Exception {
    SecAggSimulation.Report report = SecAggSimulation.run(SecAggSimulation.Settings.of(banks, dim, dropout, degree));
    spec.commandLine().getOut().println(report.toJson());
    spec.commandLine().getOut().flush();
    return report.sumCorrect() ? 0 : 1;
  }
}
