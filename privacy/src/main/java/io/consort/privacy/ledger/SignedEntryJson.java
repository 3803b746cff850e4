package io.consort.privacy.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;

/**
 * One signed entry as a JSON document (the same form as a line of a bank's local copy): how an
 * entry travels from the coordinator to a bank for countersigning, and how the coordinator stores
 * it. Reading refuses a truncated or malformed document by name.
 */
public final class SignedEntryJson {
  private SignedEntryJson() {}

  public static String toJson(SignedLedgerEntry entry) {
    try {
      return LedgerJson.MAPPER.writeValueAsString(LedgerJson.write(entry));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("entry " + entry.entry().sequence() + " could not be encoded", e);
    }
  }

  /** @param where names the document in error messages */
  public static SignedLedgerEntry fromJson(String json, String where) throws LedgerFormatException {
    try {
      return LedgerJson.read(LedgerJson.MAPPER.readTree(json), where);
    } catch (JsonProcessingException e) {
      throw new LedgerFormatException(where + " is truncated or not JSON", e);
    }
  }
}
