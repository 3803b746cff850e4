package io.consort.secagg;

/**
 * A peer (a bank, or the coordinator as seen by a bank) sent something the protocol forbids. The
 * server treats the offending bank as dropped and goes on while the threshold allows; a client aborts
 * its round, because it cannot tell a faulty peer from a tampering coordinator.
 */
public class ProtocolViolationException extends Exception {
  private final String bankId;
  private final Stage stage;

  /**
   * @param bankId the party whose message was refused (a bank id, or the coordinator id)
   * @param stage the stage during which the message was refused
   * @param reason what was wrong, naming the field and the bad value
   */
  public ProtocolViolationException(String bankId, Stage stage, String reason) {
    this(bankId, stage, reason, null);
  }

  public ProtocolViolationException(String bankId, Stage stage, String reason, Throwable cause) {
    super("refused message from '" + bankId + "' at stage " + stage.wireName() + ": " + reason, cause);
    this.bankId = bankId;
    this.stage = stage;
  }

  /** The party whose message was refused. */
  public String bankId() {
    return bankId;
  }

  public Stage stage() {
    return stage;
  }
}
