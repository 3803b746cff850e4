package io.consort.coordinator.job;

import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * How one round gathers the banks' updates into an aggregate: in the clear ({@link PlaintextRound})
 * or under secure aggregation ({@link SecureRound}). A protocol trains nothing and applies nothing;
 * it returns what the round produced, and the job applies it.
 */
public interface RoundProtocol {
  /**
   * @param round the round number (1-based)
   * @param members the banks asked to take part, in a fixed order
   * @param base the global model the banks start from
   * @param trainRows each member's training rows, from its feature statistics
   */
  record RoundInput(int round, List<String> members, ModelParameters base, Map<String, Long> trainRows) {
    public RoundInput {
      members = List.copyOf(members);
      trainRows = Map.copyOf(trainRows);
    }
  }

  Future<RoundOutcome> run(RoundInput input);

  /**
   * Whether a bank's DP report is one the ledger can account under the job's record-level DP:
   * positive noise at least the specification's (when it fixes one), a sampling rate in (0, 1], at
   * least one step, a positive clip.
   */
  static boolean acceptableDpReport(JobSpec spec, DpReport d) {
    if (d == null || !(d.getNoiseMultiplier() > 0) || !(d.getSamplingRate() > 0 && d.getSamplingRate() <= 1)
        || d.getSteps() < 1 || !(d.getClipNorm() > 0)) {
      return false;
    }
    if (spec.privacy().distributedRecordNoise().isPresent()) {
      // the step's noise is the banks' shares, which the ledger accounts from the plan and the survivors
      return d.getSteps() == 1;
    }
    OptionalDouble planned = spec.privacy().record().orElseThrow().noiseMultiplier();
    return planned.isEmpty() || d.getNoiseMultiplier() >= planned.getAsDouble();
  }
}
