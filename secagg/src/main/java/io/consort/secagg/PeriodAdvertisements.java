package io.consort.secagg;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The coordinator's cache of verified period advertisements (docs/SECURE_AGGREGATION.md, "Keys for a period of
 * rounds"): per bank, the last message and signature that verified, so that a bank that advertises the same period
 * keys in every sum of a period costs one identity-signature check a period instead of one a sum. The message is the
 * whole signed context (job, period, period length, bank, both keys), so a hit is exactly a repeat of what verified;
 * anything else is verified by the delegate and, if valid, replaces the entry. One per job, dropped with it. Thread-safe.
 */
public final class PeriodAdvertisements {
  private record Verified(byte[] message, byte[] signature) {}

  private final Map<String, Verified> verified = new HashMap<>();

  /** {@code delegate} behind this cache: a repeat of the last message and signature that verified for a bank passes. */
  public PeerKeyVerifier through(PeerKeyVerifier delegate) {
    return (bankId, message, signature) -> {
      if (isVerified(bankId, message, signature)) {
        return;
      }
      delegate.verify(bankId, message, signature);
      remember(bankId, message, signature);
    };
  }

  private synchronized boolean isVerified(String bankId, byte[] message, byte[] signature) {
    Verified v = verified.get(bankId);
    return v != null && Arrays.equals(v.message(), message) && Arrays.equals(v.signature(), signature);
  }

  private synchronized void remember(String bankId, byte[] message, byte[] signature) {
    verified.put(bankId, new Verified(message.clone(), signature.clone()));
  }
}
