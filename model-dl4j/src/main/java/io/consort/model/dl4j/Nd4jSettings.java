package io.consort.model.dl4j;

import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J settings for the DL4J engine, applied once when the first DL4J network of the process is
 * built: {@link JavaCppSettings} first (they must precede ND4J's loading), then the op executioner's
 * profiling mode {@link OpExecutioner.ProfilingMode#DISABLED DISABLED}.
 *
 * <p>ND4J 1.0.0-M2.1 starts in {@code SCOPE_PANIC}, a debugging aid that, before and after every op,
 * checks each argument's workspace (that it is not a view into a workspace that was closed or
 * reopened) and throws when one is. DL4J's layers, the only code that runs ops here, manage their
 * workspaces themselves, and the check costs every op of every step (the DL4J engine's step is
 * dozens of small ops; docs/BENCHMARKS.md, "Against PyTorch, in one run", measures the difference).
 * The setting is process-wide; an operator debugging ND4J can still set another mode after the
 * first network is built.
 */
final class Nd4jSettings {
  private Nd4jSettings() {}

  /** Applies the settings once per process. */
  static void apply() {
    Once.APPLIED.hashCode();
  }

  /** Class initialisation is the JVM's run-once guard (thread-safe, no lock after the first use). */
  private static final class Once {
    static final Boolean APPLIED = applyNow();

    private static Boolean applyNow() {
      JavaCppSettings.apply();
      Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
      return Boolean.TRUE;
    }
  }
}
