package io.consort.secagg.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShamirSharingTest {
  private static SecureRandom seeded(long seed) throws Exception {
    SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
    random.setSeed(seed);
    return random;
  }

  @Test
  void prime_isPrimeAndAbove2To256() {
    assertTrue(ShamirSharing.PRIME.isProbablePrime(200));
    assertTrue(ShamirSharing.PRIME.compareTo(BigInteger.ONE.shiftLeft(256)) > 0);
    assertEquals(BigInteger.ONE.shiftLeft(256).nextProbablePrime(), ShamirSharing.PRIME);
  }

  @Test
  void reconstruct_returnsSecret_fromEveryThresholdSizedOrLargerSubset() throws Exception {
    byte[] raw = new byte[32];
    Arrays.fill(raw, (byte) 0xff); // the largest 32-byte secret
    SecretBytes secret = SecretBytes.copyOf(raw);
    int[] xs = {1, 2, 3, 4, 5, 6};
    List<ShamirSharing.Share> shares = ShamirSharing.split(secret, 3, xs, seeded(1));
    int subsets = 0;
    for (int mask = 0; mask < 1 << xs.length; mask++) {
      List<ShamirSharing.Share> subset = new ArrayList<>();
      for (int i = 0; i < xs.length; i++) {
        if ((mask & (1 << i)) != 0) {
          subset.add(shares.get(i));
        }
      }
      if (subset.size() >= 3) {
        assertTrue(secret.equalsConstantTime(ShamirSharing.reconstruct(subset, 3)), "subset mask " + mask);
        subsets++;
      }
    }
    assertEquals(42, subsets); // C(6,3) + C(6,4) + C(6,5) + C(6,6)
  }

  @Test
  void reconstruct_refuses_belowThreshold() throws Exception {
    SecretBytes secret = SecretBytes.copyOf(new byte[32]);
    List<ShamirSharing.Share> shares = ShamirSharing.split(secret, 4, new int[] {1, 2, 3, 4, 5}, seeded(2));

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> ShamirSharing.reconstruct(shares.subList(0, 3), 4));
    assertTrue(error.getMessage().contains("need at least 4 shares, got 3"));
  }

  @Test
  void thresholdMinusOneShares_doNotDetermineTheSecret() throws Exception {
    // Interpolating t-1 shares as if t-1 were the threshold gives an unrelated value.
    SecretBytes secret = SecretBytes.copyOf(new byte[32]);
    List<ShamirSharing.Share> shares = ShamirSharing.split(secret, 3, new int[] {1, 2, 3}, seeded(3));
    SecretBytes guess = ShamirSharing.reconstruct(shares.subList(0, 2), 2);
    assertFalse(secret.equalsConstantTime(guess));
  }

  @Test
  void reconstruct_detectsCorruptedExtraShare() throws Exception {
    SecretBytes secret = SecretBytes.copyOf(new byte[32]);
    List<ShamirSharing.Share> shares = new ArrayList<>(
        ShamirSharing.split(secret, 2, new int[] {1, 2, 3}, seeded(4)));
    byte[] corrupted = shares.get(2).value().toByteArray();
    corrupted[32] ^= 1;
    shares.set(2, new ShamirSharing.Share(3, SecretBytes.copyOf(corrupted)));

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> ShamirSharing.reconstruct(shares, 2));
    assertTrue(error.getMessage().contains("share at x=3 is inconsistent"));
  }

  @Test
  void decodeShareValue_refusesValuesOutsideTheField() {
    byte[] tooBig = ShamirSharing.PRIME.toByteArray(); // exactly p: not a field element
    assertEquals(33, tooBig.length);
    assertThrows(IllegalArgumentException.class, () -> ShamirSharing.decodeShareValue(tooBig));
    assertThrows(IllegalArgumentException.class, () -> ShamirSharing.decodeShareValue(new byte[32]));
    assertFalse(ShamirSharing.decodeShareValue(new byte[33]).toString().contains("0"));
  }
}
