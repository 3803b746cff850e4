package io.consort.secagg.sim;

import io.consort.identity.IdentitySigner;
import io.consort.secagg.PublicKeyDirectory;
import io.consort.secagg.Quantizer;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A bank's CPU per secure-aggregation stage per round, as a bank of the pipelined protocol (version 3)
 * spends it: thread CPU time ({@link ThreadMXBean#getCurrentThreadCpuTime}, so other processes on a busy
 * machine stretch the wall clock but hardly the figure) of each bank's client, through the binary codec
 * as the daemon calls it, in rounds of {@code banks} banks with the consistency check, a 32-bit ring,
 * an identity signature (ECDSA P-256) over a ledger-sized message standing in for the countersignature,
 * and the quantiser, with each bank's mask vector expanded ahead after share-keys ({@link
 * SecAggClient#expandMasksAhead}, timed as its own part: the daemon runs it on its mask thread), so that the masked
 * input is what the training task's critical path spends. Prints, per stage, the median over banks and measured
 * rounds, in microseconds, then the coordinator's secure-aggregation parts per round ({@link ServerPart}, the same
 * thread), and a JSON line.
 *
 * <p>The quantiser rounds with the generator given to {@link #run} (the JDK's DRBG from {@link #main});
 * {@code io.consort.bench.secagg.SecAggLargeCpu} runs it with the daemon's {@code BulkSecureRandom}.
 *
 * <pre>java -cp ... io.consort.secagg.sim.BankStageCpu [banks] [dimension] [rounds] [warm-up rounds]</pre>
 */
public final class BankStageCpu {
  /** Where a bank's CPU goes in one round. */
  enum Part { ADVERTISE_KEYS, SHARE_KEYS, MASKS_AHEAD, QUANTISE, MASKED_INPUT, CONSISTENCY, UNMASKING, SIGN_LEDGER }

  /**
   * Where the coordinator's secure-aggregation CPU goes in one round: decoding and summing the banks'
   * masked inputs as they arrive, unmasking (Shamir reconstruction, expanding the survivors' self masks),
   * and reading the ring sum back as floats ({@link Quantizer#decodeSum}).
   */
  enum ServerPart { ACCEPT_MASKED_INPUTS, UNMASK, DECODE_SUM }

  private BankStageCpu() {
  }

  public static void main(String[] args) throws Exception {
    int banks = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int dimension = args.length > 1 ? Integer.parseInt(args[1]) : 6209;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 40;
    int warmUp = args.length > 3 ? Integer.parseInt(args[3]) : 20;
    run(banks, dimension, rounds, warmUp, SecureRandom.getInstance("DRBG"));
  }

  /**
   * Runs the measurement and prints it (the bank's parts, then the coordinator's).
   *
   * @param rounding the quantiser's generator (the daemon's is {@code BulkSecureRandom}, in the model module)
   */
  public static void run(int banks, int dimension, int rounds, int warmUp, RandomGenerator rounding) throws Exception {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    System.out.println("ring sum decoding: " + Quantizer.decodingPath());
    SecureRandom random = SecureRandom.getInstance("DRBG");
    List<String> bankIds = new ArrayList<>();
    for (int i = 0; i < banks; i++) {
      bankIds.add(String.format(Locale.ROOT, "bank-%02d", i + 1));
    }
    KeyPairGenerator identityKeys = KeyPairGenerator.getInstance("EC");
    identityKeys.initialize(new ECGenParameterSpec("secp256r1"), random);
    Map<String, PublicKey> publicKeys = new HashMap<>();
    Map<String, IdentitySigner> signers = new HashMap<>();
    for (String bank : bankIds) {
      KeyPair identity = identityKeys.generateKeyPair();
      publicKeys.put(bank, identity.getPublic());
      signers.put(bank, new IdentitySigner(identity.getPrivate()));
    }
    PublicKeyDirectory directory = new PublicKeyDirectory(publicKeys);
    Quantizer quantizer = new Quantizer(1.0, banks + 1, 24);
    float[] update = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      update[i] = (float) (random.nextGaussian() * 0.01);
    }
    byte[] ledgerMessage = new byte[220];
    random.nextBytes(ledgerMessage);

    Map<Part, List<Double>> micros = new EnumMap<>(Part.class);
    for (Part part : Part.values()) {
      micros.put(part, new ArrayList<>());
    }
    Map<ServerPart, List<Double>> serverMicros = new EnumMap<>(ServerPart.class);
    for (ServerPart part : ServerPart.values()) {
      serverMicros.put(part, new ArrayList<>());
    }
    for (int round = 1; round <= warmUp + rounds; round++) {
      boolean measured = round > warmUp;
      RoundParameters parameters = new RoundParameters("cpu", round, bankIds, banks / 2 + 1, 32, dimension, 0, true);
      SecAggServer server = SecAggServer.create(parameters, directory);
      Map<String, SecAggClient> clients = new LinkedHashMap<>();
      Map<String, Map<Part, Double>> spent = new HashMap<>();
      Map<ServerPart, Double> serverSpent = new EnumMap<>(ServerPart.class);
      for (String bank : bankIds) {
        Map<Part, Double> parts = new EnumMap<>(Part.class);
        spent.put(bank, parts);
        SecAggClient client = SecAggClient.createAwaitingInput(parameters, bank, signers.get(bank), directory, random);
        clients.put(bank, client);
        long start = cpu.getCurrentThreadCpuTime();
        byte[] keys = SecAggCodec.encode(client.advertiseKeys());
        parts.put(Part.ADVERTISE_KEYS, (cpu.getCurrentThreadCpuTime() - start) / 1e3);
        server.acceptEncoded(bank, keys);
      }
      while (true) {
        long closeStart = cpu.getCurrentThreadCpuTime();
        ServerTransition transition = server.closeStage();
        if (transition.isAborted()) {
          throw new IllegalStateException(transition.abortReason().orElseThrow());
        }
        if (transition.isCompleted()) {
          serverSpent.put(ServerPart.UNMASK, (cpu.getCurrentThreadCpuTime() - closeStart) / 1e3);
          long decodeStart = cpu.getCurrentThreadCpuTime();
          double[] sum = quantizer.decodeSum(transition.result().orElseThrow().sum());
          serverSpent.put(ServerPart.DECODE_SUM, (cpu.getCurrentThreadCpuTime() - decodeStart) / 1e3);
          if (sum.length != dimension) {
            throw new IllegalStateException("sum of " + sum.length + " values, expected " + dimension);
          }
          break;
        }
        for (SecAggMessage message : transition.outgoing()) {
          String bank = message.header().recipientId();
          byte[] encoded = SecAggCodec.encode(message);
          SecAggClient client = clients.get(bank);
          Part part = switch (message.header().stage()) {
            case SHARE_KEYS -> Part.SHARE_KEYS;
            case MASKED_INPUT -> Part.MASKED_INPUT;
            case CONSISTENCY_CHECK -> Part.CONSISTENCY;
            case UNMASKING -> Part.UNMASKING;
            default -> throw new IllegalStateException("unexpected stage " + message.header().stage());
          };
          long start = cpu.getCurrentThreadCpuTime();
          if (part == Part.MASKED_INPUT) {
            int[] input = quantizer.encode(update, rounding);
            spent.get(bank).put(Part.QUANTISE, (cpu.getCurrentThreadCpuTime() - start) / 1e3);
            start = cpu.getCurrentThreadCpuTime();
            client.supplyInput(input);
          }
          byte[] reply = client.handleEncoded(encoded);
          spent.get(bank).put(part, (cpu.getCurrentThreadCpuTime() - start) / 1e3);
          if (part == Part.SHARE_KEYS) {
            // as the daemon does once the key roster is in (on its mask thread; here on this one, timed apart)
            start = cpu.getCurrentThreadCpuTime();
            client.expandMasksAhead(Runnable::run);
            spent.get(bank).put(Part.MASKS_AHEAD, (cpu.getCurrentThreadCpuTime() - start) / 1e3);
          }
          start = cpu.getCurrentThreadCpuTime();
          server.acceptEncoded(bank, reply);
          if (part == Part.MASKED_INPUT) {
            serverSpent.merge(ServerPart.ACCEPT_MASKED_INPUTS, (cpu.getCurrentThreadCpuTime() - start) / 1e3, Double::sum);
          }
        }
      }
      for (String bank : bankIds) {
        long start = cpu.getCurrentThreadCpuTime();
        byte[] signature = signers.get(bank).sign(ledgerMessage);
        spent.get(bank).put(Part.SIGN_LEDGER, (cpu.getCurrentThreadCpuTime() - start) / 1e3);
        if (signature.length == 0 || !clients.get(bank).isFinished()) {
          throw new IllegalStateException("bank '" + bank + "' did not finish round " + round);
        }
      }
      if (measured) {
        for (Map<Part, Double> parts : spent.values()) {
          parts.forEach((part, value) -> micros.get(part).add(value));
        }
        serverSpent.forEach((part, value) -> serverMicros.get(part).add(value));
      }
    }
    StringBuilder json = new StringBuilder(String.format(Locale.ROOT,
        "{\"banks\": %d, \"dimension\": %d, \"rounds\": %d", banks, dimension, rounds));
    double total = 0;
    for (Part part : Part.values()) {
      double median = SecAggSimulation.median(micros.get(part));
      total += median;
      System.out.printf(Locale.ROOT, "%-15s %10.0f us CPU (median of %d)%n", part.name().toLowerCase(Locale.ROOT),
          median, micros.get(part).size());
      json.append(String.format(Locale.ROOT, ", \"%s_us\": %.0f", part.name().toLowerCase(Locale.ROOT), median));
    }
    System.out.printf(Locale.ROOT, "%-15s %10.0f us CPU (sum of the medians)%n", "total", total);
    json.append(String.format(Locale.ROOT, ", \"total_us\": %.0f", total));
    double serverTotal = 0;
    for (ServerPart part : ServerPart.values()) {
      double median = SecAggSimulation.median(serverMicros.get(part));
      serverTotal += median;
      String name = "coordinator_" + part.name().toLowerCase(Locale.ROOT);
      System.out.printf(Locale.ROOT, "%-33s %10.0f us CPU (median of %d rounds)%n", name, median,
          serverMicros.get(part).size());
      json.append(String.format(Locale.ROOT, ", \"%s_us\": %.0f", name, median));
    }
    System.out.printf(Locale.ROOT, "%-33s %10.0f us CPU (sum of the medians)%n", "coordinator_total", serverTotal);
    System.out.println(json.append(String.format(Locale.ROOT, ", \"coordinator_total_us\": %.0f}", serverTotal)));
    Arrays.fill(ledgerMessage, (byte) 0);
  }
}
