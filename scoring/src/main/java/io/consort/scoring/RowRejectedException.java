package io.consort.scoring;

import java.util.List;
import java.util.stream.Collectors;

/** A row that violates the job's schema and was therefore not scored; every problem is listed. */
public final class RowRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient List<RowProblem> problems;

  public RowRejectedException(List<RowProblem> problems) {
    super("the row was not scored: " + problems.stream().map(RowProblem::toString).collect(Collectors.joining("; ")));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a rejected row has at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  public List<RowProblem> problems() {
    return problems;
  }
}
