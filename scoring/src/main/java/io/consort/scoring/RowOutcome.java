package io.consort.scoring;

import java.util.List;
import java.util.Optional;

/**
 * What became of one row of a batch: its score, or the problems for which it was refused. Never
 * both, never neither.
 */
public record RowOutcome(Optional<Score> score, List<RowProblem> problems) {
  public RowOutcome {
    problems = List.copyOf(problems);
    if (score.isPresent() == !problems.isEmpty()) {
      throw new IllegalArgumentException("a row is either scored or refused with its problems");
    }
  }

  static RowOutcome scored(Score score) {
    return new RowOutcome(Optional.of(score), List.of());
  }

  static RowOutcome refused(List<RowProblem> problems) {
    return new RowOutcome(Optional.empty(), problems);
  }

  public boolean isScored() {
    return score.isPresent();
  }
}
