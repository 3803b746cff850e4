package io.consort.secagg;

import io.consort.identity.IdentitySigner;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Drives one round between in-memory clients and a server, with hooks to drop banks at a stage and to
 * tamper with coordinator-to-bank messages. Randomness is seeded (tests only).
 */
final class RoundHarness {
  final RoundParameters parameters;
  final Map<String, KeyPair> identities = new LinkedHashMap<>();
  final PublicKeyDirectory directory;
  final Map<String, SecAggClient> clients = new LinkedHashMap<>();
  final Map<String, int[]> inputs = new LinkedHashMap<>();
  final SecAggServer server;
  /** Exceptions raised by clients while handling coordinator messages, by bank. */
  final Map<String, ProtocolViolationException> clientRefusals = new LinkedHashMap<>();
  /** Exceptions raised by the server while accepting bank messages, by bank. */
  final Map<String, ProtocolViolationException> serverRefusals = new LinkedHashMap<>();
  /** Whose key-advertisement signatures each bank asked its verifier to check, in order, by bank. */
  final Map<String, List<String>> advertisementsChecked = new LinkedHashMap<>();
  private final SecureRandom random;

  RoundHarness(RoundParameters parameters, Map<String, int[]> inputs, long seed) {
    this(parameters, inputs, seed, false);
  }

  /** @param fastUnmasking the server skips the consistency check when nobody dropped */
  RoundHarness(RoundParameters parameters, Map<String, int[]> inputs, long seed, boolean fastUnmasking) {
    this(parameters, inputs, seed, fastUnmasking, null, null);
  }

  /**
   * @param keyPeriod the period the banks' keys serve (the server checks period advertisements and b-only shares),
   *     or null
   * @param serverVerifier what the server verifies with, given the harness's identity directory; null: the directory
   */
  RoundHarness(RoundParameters parameters, Map<String, int[]> inputs, long seed, boolean fastUnmasking,
               KeyPeriod keyPeriod, java.util.function.Function<PeerKeyVerifier, PeerKeyVerifier> serverVerifier) {
    this.parameters = parameters;
    this.random = seeded(seed);
    Map<String, PublicKey> publicKeys = new HashMap<>();
    for (String bank : parameters.bankIds()) {
      KeyPair identity = identityKeys(random);
      identities.put(bank, identity);
      publicKeys.put(bank, identity.getPublic());
    }
    directory = new PublicKeyDirectory(publicKeys);
    for (String bank : parameters.bankIds()) {
      this.inputs.put(bank, inputs.get(bank));
      List<String> checked = new ArrayList<>();
      advertisementsChecked.put(bank, checked);
      byte[] advertiseLabel = ContextEncoding.labelled(ContextEncoding.ADVERTISE_LABEL).toByteArray();
      PeerKeyVerifier recording = (signer, message, signature) -> {
        if (Arrays.equals(advertiseLabel, Arrays.copyOf(message, advertiseLabel.length))) {
          checked.add(signer);
        }
        directory.verify(signer, message, signature);
      };
      clients.put(bank, SecAggClient.create(parameters, bank, inputs.get(bank), signer(bank), recording, random));
    }
    PeerKeyVerifier verifier = serverVerifier == null ? directory : serverVerifier.apply(directory);
    server = keyPeriod == null ? SecAggServer.create(parameters, verifier, fastUnmasking)
        : SecAggServer.create(parameters, verifier, fastUnmasking, keyPeriod);
  }

  IdentitySigner signer(String bank) {
    try {
      return new IdentitySigner(identities.get(bank).getPrivate());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A SHA1PRNG seeded before first use is deterministic: the only seeded randomness in the module. */
  static SecureRandom seeded(long seed) {
    try {
      SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
      random.setSeed(seed);
      return random;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair identityKeys(SecureRandom random) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> banks(int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      ids.add("bank-" + i);
    }
    return ids;
  }

  /** Banks send their advertisements, except those in {@code silent}. */
  void advertise(Set<String> silent) throws GeneralSecurityException {
    for (SecAggClient client : clients.values()) {
      if (!silent.contains(client.bankId())) {
        deliverToServer(client.advertiseKeys());
      }
    }
  }

  /**
   * Whether bank messages reach the server encoded, as a read-only view into a larger buffer
   * ({@link SecAggServer#acceptEncoded(String, java.nio.ByteBuffer)}, as the coordinator receives them),
   * instead of as decoded messages.
   */
  boolean encodedInPlace;

  /** Every bank message delivered to the server, in order. */
  final List<SecAggMessage> delivered = new ArrayList<>();

  void deliverToServer(SecAggMessage message) {
    delivered.add(message);
    try {
      if (encodedInPlace) {
        server.acceptEncoded(message.header().senderId(), embedded(SecAggCodec.encode(message)));
      } else {
        server.accept(message);
      }
    } catch (ProtocolViolationException e) {
      serverRefusals.putIfAbsent(message.header().senderId(), e);
    }
  }

  /**
   * Closes the current stage and hands each outgoing message, after {@code tamper}, to its bank unless
   * the bank drops at that message's stage or earlier; replies go back to the server.
   */
  ServerTransition closeAndDeliver(Map<Stage, Set<String>> dropAt, UnaryOperator<SecAggMessage> tamper) {
    ServerTransition transition = server.closeStage();
    for (SecAggMessage message : transition.outgoing()) {
      String bank = message.header().recipientId();
      if (dropsBy(dropAt, bank, message.header().stage())) {
        continue;
      }
      try {
        for (SecAggMessage reply : clients.get(bank).handleAll(tamper.apply(message))) {
          deliverToServer(reply);
        }
      } catch (ProtocolViolationException e) {
        clientRefusals.putIfAbsent(bank, e);
      }
    }
    return transition;
  }

  private static boolean dropsBy(Map<Stage, Set<String>> dropAt, String bank, Stage stage) {
    return dropAt.entrySet().stream()
        .anyMatch(entry -> entry.getKey().compareTo(stage) <= 0 && entry.getValue().contains(bank));
  }

  /**
   * Runs the whole round. A bank listed under a stage sends nothing from that stage on.
   *
   * @return the last transition: completed or aborted
   */
  ServerTransition run(Map<Stage, Set<String>> dropAt, UnaryOperator<SecAggMessage> tamper)
      throws GeneralSecurityException {
    return run(dropAt, tamper, true);
  }

  /** As {@link #run(Map, UnaryOperator)}; {@code advertise} false when the test already had the banks advertise. */
  ServerTransition run(Map<Stage, Set<String>> dropAt, UnaryOperator<SecAggMessage> tamper, boolean advertise)
      throws GeneralSecurityException {
    if (advertise) {
      advertise(dropAt.getOrDefault(Stage.ADVERTISE_KEYS, Set.of()));
    }
    ServerTransition transition;
    do {
      transition = closeAndDeliver(dropAt, tamper);
    } while (!transition.isAborted() && !transition.isCompleted());
    return transition;
  }

  ServerTransition run() throws GeneralSecurityException {
    return run(Map.of(), UnaryOperator.identity());
  }

  /** {@code encoded} between other bytes, as a read-only buffer whose position and limit frame it. */
  static java.nio.ByteBuffer embedded(byte[] encoded) {
    byte[] around = new byte[encoded.length + 12];
    Arrays.fill(around, (byte) 0x5a);
    System.arraycopy(encoded, 0, around, 7, encoded.length);
    return java.nio.ByteBuffer.wrap(around).asReadOnlyBuffer().position(7).limit(7 + encoded.length);
  }

  /** The plaintext ring sum of the given banks' inputs. */
  int[] plaintextSum(List<String> banks) {
    int[] sum = new int[parameters.dimension()];
    for (String bank : banks) {
      int[] input = inputs.get(bank);
      for (int i = 0; i < sum.length; i++) {
        sum[i] += input[i];
      }
    }
    for (int i = 0; i < sum.length; i++) {
      sum[i] &= parameters.ringMask();
    }
    return sum;
  }

  /** Uniform ring elements for every bank. */
  static Map<String, int[]> randomInputs(RoundParameters parameters, long seed) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    Map<String, int[]> inputs = new HashMap<>();
    for (String bank : parameters.bankIds()) {
      int[] input = new int[parameters.dimension()];
      for (int i = 0; i < input.length; i++) {
        input[i] = random.nextInt() & parameters.ringMask();
      }
      inputs.put(bank, input);
    }
    return inputs;
  }
}
