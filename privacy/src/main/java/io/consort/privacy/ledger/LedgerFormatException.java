package io.consort.privacy.ledger;

import java.io.IOException;

/** A file that is not a (complete, known-version) Consort privacy ledger. */
public final class LedgerFormatException extends IOException {

  private static final long serialVersionUID = 1L;

  public LedgerFormatException(String message) {
    super(message);
  }

  public LedgerFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
