package io.consort.scoring;

import java.util.Objects;
import java.util.Optional;

/**
 * Why a row cannot be scored under the job's schema: a missing value, a number that is not one, a
 * category the schema does not allow, or a row of the wrong width.
 *
 * @param column the column at fault, or null when the problem is the row's (its field count)
 */
public record RowProblem(String column, String problem) {
  public RowProblem {
    Objects.requireNonNull(problem, "problem");
  }

  public Optional<String> columnName() {
    return Optional.ofNullable(column);
  }

  @Override
  public String toString() {
    return column == null ? problem : "column '" + column + "': " + problem;
  }
}
