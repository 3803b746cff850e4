package io.consort.model.train;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * DP-SGD's noise per coordinate (nanoseconds per sample): {@link GaussianNoise#addOnGrid} on the
 * 6,209 parameters of the bench round's MLP, with the JDK ziggurat ({@link ZigguratGaussianNoise},
 * production) and Marsaglia's polar method ({@link PolarGaussianNoise}, before), both over
 * {@link BufferedSecureRandom#create()}; {@code uniformsOnly} draws one {@code nextLong()} per
 * coordinate from the same source, the floor both sit on. In this package because the samplers are
 * package-private. Run: {@code java -jar bench/target/benchmarks.jar GaussianNoiseBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GaussianNoiseBenchmark {
  private static final int PARAMETERS = 6209;
  private final float[] gradient = new float[PARAMETERS];
  private final double grid = GaussianNoise.gridFor(1.0, PARAMETERS);
  private GaussianNoise ziggurat;
  private GaussianNoise polar;
  private BufferedSecureRandom uniforms;

  @Setup
  public void setUp() {
    ziggurat = new ZigguratGaussianNoise(BufferedSecureRandom.create());
    polar = new PolarGaussianNoise(BufferedSecureRandom.create());
    uniforms = BufferedSecureRandom.create();
  }

  @Benchmark
  @OperationsPerInvocation(PARAMETERS)
  public float[] ziggurat() {
    ziggurat.addOnGrid(gradient, PARAMETERS, 1.1, grid);
    return gradient;
  }

  @Benchmark
  @OperationsPerInvocation(PARAMETERS)
  public float[] polar() {
    polar.addOnGrid(gradient, PARAMETERS, 1.1, grid);
    return gradient;
  }

  @Benchmark
  @OperationsPerInvocation(PARAMETERS)
  public void uniformsOnly(Blackhole sink) {
    long x = 0;
    for (int i = 0; i < PARAMETERS; i++) {
      x ^= uniforms.nextLong();
    }
    sink.consume(x);
  }
}
