package io.consort.bench.secagg;

import io.consort.secagg.sim.SecAggSimulation;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Wall time of one whole in-memory round (all banks and the coordinator, single-threaded, through the
 * codec) for small grids; the full grid with per-client and coordinator times is {@link SecAggGrid}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(1)
public class SecAggRoundBenchmark {
  @Param({"5", "10"})
  public int banks;

  @Param({"10000", "100000"})
  public int dim;

  @Param({"0.0", "0.3"})
  public double dropout;

  @Benchmark
  public SecAggSimulation.Report round() throws Exception {
    SecAggSimulation.Report report = SecAggSimulation.run(SecAggSimulation.Settings.of(banks, dim, dropout, 0));
    if (!report.sumCorrect()) {
      throw new IllegalStateException("wrong sum: " + report.toJson());
    }
    return report;
  }
}
