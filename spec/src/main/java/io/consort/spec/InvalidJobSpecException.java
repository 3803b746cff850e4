package io.consort.spec;

/**
 * A job specification that cannot run: the message names the field (as it is spelled in a job file,
 * for example {@code privacy.delta}) and the bad value.
 */
public final class InvalidJobSpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;

  public InvalidJobSpecException(String field, String problem) {
    super(field + " " + problem);
    this.field = field;
  }

  /** The dotted field name, as in a job file. */
  public String field() {
    return field;
  }

  static InvalidJobSpecException wrap(String field, IllegalArgumentException cause) {
    InvalidJobSpecException e = new InvalidJobSpecException(field, "is invalid: " + cause.getMessage());
    e.initCause(cause);
    return e;
  }
}
