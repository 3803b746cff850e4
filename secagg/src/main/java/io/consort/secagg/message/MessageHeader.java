package io.consort.secagg.message;

import io.consort.secagg.Stage;
import java.util.Objects;

/**
 * Carried by every message so that replays from another job or round, messages for the wrong stage
 * and misdirected messages are refused. Messages from the coordinator have sender
 * {@link io.consort.secagg.RoundParameters#COORDINATOR_ID}; messages to it have that id as recipient.
 */
public record MessageHeader(String jobId, long round, Stage stage, String senderId, String recipientId) {
  public MessageHeader {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(senderId, "senderId");
    Objects.requireNonNull(recipientId, "recipientId");
  }
}
