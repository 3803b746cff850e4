package io.consort.secagg.sim;

import io.consort.identity.IdentitySigner;
import io.consort.secagg.ProtocolViolationException;
import io.consort.secagg.PublicKeyDirectory;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.Stage;
import io.consort.secagg.crypto.KeyDerivation;
import io.consort.secagg.crypto.MaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Runs one complete round in memory, single-threaded, with every message passed through the binary
 * codec, and measures it. Banks chosen at random drop out at the masked-input stage (the expensive
 * case for the coordinator, which must then recompute their pairwise masks). Identity keys are ECDSA
 * P-256, as with the consortium PKI; inputs are uniformly random ring elements (synthetic data: each
 * bank's is the {@link MaskExpander} PRG's output for a seed drawn from {@link SecureRandom}).
 */
public final class SecAggSimulation {
  private SecAggSimulation() {
  }

  /**
   * @param banks n, 2 to 10,000
   * @param dimension D
   * @param dropoutFraction share of banks that drop at masked-input, in [0, 1)
   * @param neighbourDegree 0 for the complete graph, else the SecAgg+ degree
   * @param ringBits k
   * @param consistencyCheck whether to run the optional stage
   */
  public record Settings(int banks, int dimension, double dropoutFraction, int neighbourDegree, int ringBits,
              boolean consistencyCheck) {
    public Settings {
      if (!(dropoutFraction >= 0 && dropoutFraction < 1)) {
        throw new IllegalArgumentException("dropoutFraction must be in [0, 1), got " + dropoutFraction);
      }
    }

    public static Settings of(int banks, int dimension, double dropoutFraction, int neighbourDegree) {
      return new Settings(banks, dimension, dropoutFraction, neighbourDegree, 32, false);
    }
  }

  /**
   * Measurements of one run. Speeds are bytes per second; {@code maskToAesCtrRatio} compares the PRG
   * mask expansion with raw AES-CTR keystream measured in the same run. {@code expansion} is
   * (bytes sent + received by a bank over all stages) / (4 D), averaged over the banks that finished;
   * {@code uploadExpansion} counts bytes sent only.
   */
  public record Report(Settings settings, int threshold, int droppedBanks, boolean completeGraph,
             double maskBytesPerSecond, double aesCtrBytesPerSecond, double maskToAesCtrRatio,
             double clientSeconds, double serverSeconds, double expansion, double uploadExpansion,
             boolean sumCorrect, double wallSeconds) {
    public String toJson() {
      return String.format(Locale.ROOT, "{\"banks\": %d, \"dim\": %d, \"dropout\": %.3f, \"degree\": %d, "
              + "\"complete_graph\": %b, \"threshold\": %d, \"dropped_banks\": %d, "
              + "\"mask_bytes_per_second\": %.4e, \"aes_ctr_bytes_per_second\": %.4e, "
              + "\"mask_to_aes_ctr_ratio\": %.3f, \"client_seconds\": %.4f, \"server_seconds\": %.4f, "
              + "\"expansion\": %.5f, \"upload_expansion\": %.5f, \"sum_correct\": %b, "
              + "\"wall_seconds\": %.2f}",
          settings.banks(), settings.dimension(), settings.dropoutFraction(), settings.neighbourDegree(),
          completeGraph, threshold, droppedBanks, maskBytesPerSecond, aesCtrBytesPerSecond,
          maskToAesCtrRatio, clientSeconds, serverSeconds, expansion, uploadExpansion, sumCorrect,
          wallSeconds);
    }
  }

  /** The smallest threshold RoundParameters accepts: a strict majority of each neighbourhood. */
  public static int majorityThreshold(int banks, int neighbourDegree) {
    boolean complete = neighbourDegree == 0 || neighbourDegree >= banks - 1;
    int neighbourhood = complete ? banks : neighbourDegree + 1;
    return neighbourhood / 2 + 1;
  }

  public static Report run(Settings settings) throws GeneralSecurityException, ProtocolViolationException {
    long wallStart = System.nanoTime();
    SecureRandom random = new SecureRandom();
    int n = settings.banks();
    List<String> bankIds = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      bankIds.add(String.format(Locale.ROOT, "bank-%03d", i + 1));
    }
    int threshold = majorityThreshold(n, settings.neighbourDegree());
    RoundParameters parameters = new RoundParameters("simulation", 1, bankIds, threshold, settings.ringBits(),
        settings.dimension(), settings.neighbourDegree(), settings.consistencyCheck());

    KeyPairGenerator identityKeys = KeyPairGenerator.getInstance("EC");
    identityKeys.initialize(new ECGenParameterSpec("secp256r1"), random);
    Map<String, PublicKey> publicKeys = new HashMap<>();
    Map<String, SecAggClient> clients = new LinkedHashMap<>();
    Map<String, Double> clientSeconds = new HashMap<>();
    MaskExpander inputs = new MaskExpander();
    byte[] inputSeed = new byte[KeyDerivation.KEY_BYTES];
    List<String> shuffled = new ArrayList<>(bankIds);
    Collections.shuffle(shuffled, random);
    Set<String> dropping = new HashSet<>(shuffled.subList(0, (int) Math.round(settings.dropoutFraction() * n)));
    int[] expected = new int[settings.dimension()];
    int mask = parameters.ringMask();
    List<KeyPair> identities = new ArrayList<>();
    for (String bank : bankIds) {
      KeyPair identity = identityKeys.generateKeyPair();
      identities.add(identity);
      publicKeys.put(bank, identity.getPublic());
    }
    PublicKeyDirectory directory = new PublicKeyDirectory(publicKeys);
    for (int b = 0; b < n; b++) {
      String bank = bankIds.get(b);
      int[] input = new int[settings.dimension()];
      random.nextBytes(inputSeed);
      inputs.addMask(SecretBytes.copyOf(inputSeed), input);
      for (int i = 0; i < input.length; i++) {
        input[i] &= mask;
      }
      if (!dropping.contains(bank)) {
        for (int i = 0; i < input.length; i++) {
          expected[i] += input[i];
        }
      }
      clients.put(bank, SecAggClient.create(parameters, bank, input,
          new IdentitySigner(identities.get(b).getPrivate()), directory, random));
      clientSeconds.put(bank, 0.0);
    }
    SecAggServer server = SecAggServer.create(parameters, directory);
    Map<String, Long> sentBytes = new HashMap<>();
    Map<String, Long> receivedBytes = new HashMap<>();
    double serverSeconds = 0;

    for (String bank : bankIds) {
      long start = System.nanoTime();
      byte[] advertisement = SecAggCodec.encode(clients.get(bank).advertiseKeys());
      clientSeconds.merge(bank, seconds(start), Double::sum);
      sentBytes.merge(bank, (long) advertisement.length, Long::sum);
      start = System.nanoTime();
      server.acceptEncoded(bank, advertisement);
      serverSeconds += seconds(start);
    }
    AggregationOutcome outcome = null;
    while (outcome == null) {
      long start = System.nanoTime();
      ServerTransition transition = server.closeStage();
      List<byte[]> encoded = new ArrayList<>();
      for (SecAggMessage message : transition.outgoing()) {
        encoded.add(SecAggCodec.encode(message));
      }
      serverSeconds += seconds(start);
      if (transition.isAborted() || transition.isCompleted()) {
        outcome = new AggregationOutcome(transition);
        break;
      }
      for (int i = 0; i < encoded.size(); i++) {
        String bank = transition.outgoing().get(i).header().recipientId();
        if (transition.outgoing().get(i).header().stage() == Stage.MASKED_INPUT && dropping.contains(bank)) {
          continue; // this bank goes offline before sending its masked input
        }
        receivedBytes.merge(bank, (long) encoded.get(i).length, Long::sum);
        long clientStart = System.nanoTime();
        byte[] reply = clients.get(bank).handleEncoded(encoded.get(i));
        clientSeconds.merge(bank, seconds(clientStart), Double::sum);
        sentBytes.merge(bank, (long) reply.length, Long::sum);
        long serverStart = System.nanoTime();
        server.acceptEncoded(bank, reply);
        serverSeconds += seconds(serverStart);
      }
    }
    if (outcome.transition.isAborted()) {
      throw new IllegalStateException(outcome.transition.abortReason().orElseThrow());
    }
    int[] sum = outcome.transition.result().orElseThrow().sum();
    boolean correct = Arrays.equals(sum, maskAll(expected, mask));

    List<Double> finishedClientSeconds = new ArrayList<>();
    double totalBytes = 0;
    double totalSent = 0;
    int finished = 0;
    for (String bank : bankIds) {
      if (clients.get(bank).isFinished()) {
        finishedClientSeconds.add(clientSeconds.get(bank));
        totalBytes += sentBytes.getOrDefault(bank, 0L) + receivedBytes.getOrDefault(bank, 0L);
        totalSent += sentBytes.getOrDefault(bank, 0L);
        finished++;
      }
    }
    double plainUpdate = 4.0 * settings.dimension();
    double[] speeds = measureMaskAndAesCtrThroughput();
    return new Report(settings, threshold, dropping.size(), parameters.isCompleteGraph(), speeds[0], speeds[1],
        speeds[0] / speeds[1], median(finishedClientSeconds), serverSeconds,
        totalBytes / finished / plainUpdate, totalSent / finished / plainUpdate, correct, seconds(wallStart));
  }

  private record AggregationOutcome(ServerTransition transition) {
  }

  private static int[] maskAll(int[] values, int mask) {
    for (int i = 0; i < values.length; i++) {
      values[i] &= mask;
    }
    return values;
  }

  /**
   * Median of 5 alternating measurements of (a) {@link MaskExpander} adding 16 masks into a 4 MiB
   * vector and (b) raw JDK AES-CTR keystream of the same 64 MiB in 64 KiB chunks, after a warm-up.
   *
   * @return {mask bytes per second, AES-CTR bytes per second}
   */
  public static double[] measureMaskAndAesCtrThroughput() throws GeneralSecurityException {
    int words = 1 << 20;
    int seeds = 16;
    int[] target = new int[words];
    MaskExpander expander = new MaskExpander();
    SecureRandom random = new SecureRandom();
    byte[] seedBytes = new byte[32];
    random.nextBytes(seedBytes);
    SecretBytes seed = SecretBytes.copyOf(seedBytes);
    Cipher cipher = Cipher.getInstance("AES/CTR/NoPadding");
    byte[] zeros = new byte[MaskExpander.CHUNK_BYTES];
    byte[] keystream = new byte[MaskExpander.CHUNK_BYTES];
    double bytes = (double) words * Integer.BYTES * seeds;
    List<Double> maskSpeeds = new ArrayList<>();
    List<Double> aesSpeeds = new ArrayList<>();
    for (int repetition = 0; repetition < 8; repetition++) {
      long start = System.nanoTime();
      for (int s = 0; s < seeds; s++) {
        expander.addMask(seed, target);
      }
      double maskSpeed = bytes / seconds(start);
      start = System.nanoTime();
      for (int s = 0; s < seeds; s++) {
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(seedBytes, "AES"), new IvParameterSpec(new byte[16]));
        for (int offset = 0; offset < words * Integer.BYTES; offset += zeros.length) {
          cipher.update(zeros, 0, zeros.length, keystream, 0);
        }
      }
      double aesSpeed = bytes / seconds(start);
      if (repetition >= 3) { // the first three are warm-up for the JIT
        maskSpeeds.add(maskSpeed);
        aesSpeeds.add(aesSpeed);
      }
    }
    seed.destroy();
    Arrays.fill(seedBytes, (byte) 0);
    if (target[0] == 42 && keystream[0] == 42) {
      System.out.print(""); // keep the results observable so the JIT cannot drop the work
    }
    return new double[] {median(maskSpeeds), median(aesSpeeds)};
  }

  /** The median of a non-empty list (mean of the middle two for an even size). */
  public static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int size = sorted.size();
    return size % 2 == 1 ? sorted.get(size / 2) : (sorted.get(size / 2 - 1) + sorted.get(size / 2)) / 2;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** {@code java -cp ... io.consort.secagg.sim.SecAggSimulation banks dim [dropout] [degree]}: one JSON line. */
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: SecAggSimulation <banks> <dim> [dropout] [degree]");
      System.exit(2);
    }
    Settings settings = Settings.of(Integer.parseInt(args[0]), Integer.parseInt(args[1]),
        args.length > 2 ? Double.parseDouble(args[2]) : 0.0, args.length > 3 ? Integer.parseInt(args[3]) : 0);
    System.out.println(run(settings).toJson());
  }
}
