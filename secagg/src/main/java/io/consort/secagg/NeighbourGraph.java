package io.consort.secagg;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashMap;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who masks with whom and who holds whose shares. The complete graph is Bonawitz et al. 2017; a
 * k-regular graph is SecAgg+ (Bell et al. 2020, section 3), where each bank exchanges masks and
 * shares only with its k neighbours, cutting client work from O(n) to O(k) key agreements and PRG
 * expansions.
 *
 * <p>The graph is a Harary graph H(k, n) (ring lattice: each position joined to the k/2 nearest on
 * each side, plus the opposite position when k is odd) laid over a pseudorandom permutation of the
 * roster. The permutation is derived from SHA-256 of (job, round), so coordinator and banks compute
 * the same graph without exchanging it, and it changes every round.
 */
public final class NeighbourGraph {
  private final List<String> roster;
  private final Map<String, Set<String>> neighbours;
  private final boolean complete;

  private NeighbourGraph(List<String> roster, Map<String, Set<String>> neighbours, boolean complete) {
    this.roster = roster;
    this.neighbours = neighbours;
    this.complete = complete;
  }

  public static NeighbourGraph forRound(RoundParameters parameters) {
    List<String> roster = parameters.bankIds();
    int n = roster.size();
    Map<String, Set<String>> neighbours = new HashMap<>();
    if (parameters.isCompleteGraph()) {
      for (String bank : roster) {
        Set<String> others = new LinkedHashSet<>(roster);
        others.remove(bank);
        neighbours.put(bank, Collections.unmodifiableSet(others));
      }
      return new NeighbourGraph(roster, neighbours, true);
    }
    int degree = parameters.neighbourDegree();
    List<String> positions = new ArrayList<>(roster);
    shuffle(positions, ContextEncoding.graphSeedInput(parameters.jobId(), parameters.round()));
    List<Set<String>> sets = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sets.add(new HashSet<>());
    }
    for (int i = 0; i < n; i++) {
      for (int step = 1; step <= degree / 2; step++) {
        sets.get(i).add(positions.get((i + step) % n));
        sets.get(i).add(positions.get((i - step + n) % n));
      }
      if (degree % 2 == 1) { // n is even here (validated: n * k even)
        sets.get(i).add(positions.get((i + n / 2) % n));
      }
    }
    for (int i = 0; i < n; i++) {
      Set<String> ordered = new LinkedHashSet<>();
      for (String bank : roster) { // roster order, for deterministic iteration
        if (sets.get(i).contains(bank)) {
          ordered.add(bank);
        }
      }
      neighbours.put(positions.get(i), Collections.unmodifiableSet(ordered));
    }
    return new NeighbourGraph(roster, neighbours, false);
  }

  /** The banks {@code bankId} masks with, in roster order. */
  public Set<String> neighboursOf(String bankId) {
    Set<String> set = neighbours.get(bankId);
    if (set == null) {
      throw new IllegalArgumentException("bank '" + bankId + "' is not in the roster");
    }
    return set;
  }

  /** The bank and its neighbours: the holders of its Shamir shares, in roster order. */
  public List<String> shareHoldersOf(String bankId) {
    Set<String> holders = neighboursOf(bankId);
    List<String> result = new ArrayList<>(holders.size() + 1);
    for (String bank : roster) {
      if (bank.equals(bankId) || holders.contains(bank)) {
        result.add(bank);
      }
    }
    return result;
  }

  public boolean areNeighbours(String a, String b) {
    return neighboursOf(a).contains(b);
  }

  public boolean isComplete() {
    return complete;
  }

  /** Fisher-Yates with an AES-CTR stream keyed by SHA-256(seed input); rejection sampling avoids bias. */
  private static void shuffle(List<String> items, byte[] seedInput) {
    try {
      byte[] key = MessageDigest.getInstance("SHA-256").digest(seedInput);
      Cipher stream = Cipher.getInstance("AES/CTR/NoPadding");
      stream.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
      for (int i = items.size() - 1; i > 0; i--) {
        int bound = i + 1;
        long limit = (1L << 32) - ((1L << 32) % bound);
        long draw;
        do {
          draw = Integer.toUnsignedLong(ByteBuffer.wrap(stream.update(new byte[4])).getInt());
        } while (draw >= limit);
        Collections.swap(items, i, (int) (draw % bound));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 or AES/CTR unavailable", e);
    }
  }
}
