package io.consort.secagg.message;

import java.util.List;

/**
 * Coordinator to bank, opening share-keys: the signed keys of every bank in the recipient's
 * neighbourhood that advertised in time (including the recipient's own entry, so it can check the
 * coordinator did not alter it).
 */
public record KeyRoster(MessageHeader header, List<SignedPublicKeys> entries) implements SecAggMessage {
  public KeyRoster {
    entries = List.copyOf(entries);
  }
}
