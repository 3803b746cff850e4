package io.consort.participant;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A bank's daemon settings, read from {@code bank-x.yaml} by the CLI. {@link #validate()} names
 * the first bad field so start-up fails with one clear message.
 *
 * @param coordinatorHost host name on the coordinator's certificate
 * @param coordinatorPort its TLS port
 * @param keyFile this bank's private key (PKCS#8 PEM); it never leaves the bank
 * @param certFile this bank's certificate chain (PEM)
 * @param caFile the consortium CA (PEM), the only trust anchor
 * @param dataFile the bank's private data (CSV or ARFF)
 * @param dataDir the bank's local directory: its privacy ledger copy and state
 * @param epsilonCap record-level epsilon this bank allows in total; {@code bank-x.yaml} must state it (a
 *     privacy limit has no default)
 * @param delta record-level delta; {@code bank-x.yaml} must state it too
 * @param maxMessageBytes largest gRPC message accepted
 * @param failAtStage fault injection for tests and demos: exit when a task of this stage arrives (null: never)
 * @param acceptPartialJobs accept a job whose whole cost exceeds the cap, taking part only in the rounds
 *     the cap still allows (each round is checked before training either way)
 * @param crlFile the consortium CA's CRL (PEM), reloaded when the file changes; every peer certificate
 *     relayed in secure aggregation is checked against it (null: no revocation checking of peers)
 * @param bankEpsilonCap bank-level epsilon (a whole bank's participation) this bank allows in total,
 *     at {@code delta}; the bank declines a bank-level DP round that could pass it (null: no cap)
 * @param policy which jobs the bank takes part in at all (record-level DP, secure aggregation, how many banks)
 * @param testFraction the share of its rows the bank holds out for evaluation, in (0, 1); which rows is
 *     decided by the bank's secret split key ({@link BankSplit}), never by the coordinator
 */
public record ParticipantConfig(String coordinatorHost, int coordinatorPort, Path keyFile, Path certFile,
                                Path caFile, Path dataFile, Path dataDir, double epsilonCap, double delta,
                                int maxMessageBytes, String failAtStage, boolean acceptPartialJobs, Path crlFile,
                                Double bankEpsilonCap, BankPolicy policy, double testFraction) {
  public static final double DEFAULT_TEST_FRACTION = 0.2;

  /** With a CRL and a bank-level cap, the strict default policy and the default test fraction. */
  public ParticipantConfig(String coordinatorHost, int coordinatorPort, Path keyFile, Path certFile, Path caFile,
                           Path dataFile, Path dataDir, double epsilonCap, double delta, int maxMessageBytes,
                           String failAtStage, boolean acceptPartialJobs, Path crlFile, Double bankEpsilonCap) {
    this(coordinatorHost, coordinatorPort, keyFile, certFile, caFile, dataFile, dataDir, epsilonCap, delta,
        maxMessageBytes, failAtStage, acceptPartialJobs, crlFile, bankEpsilonCap, BankPolicy.strict(),
        DEFAULT_TEST_FRACTION);
  }

  /** Without a CRL and a bank-level cap, with the strict default policy and the default test fraction. */
  public ParticipantConfig(String coordinatorHost, int coordinatorPort, Path keyFile, Path certFile, Path caFile,
                           Path dataFile, Path dataDir, double epsilonCap, double delta, int maxMessageBytes,
                           String failAtStage, boolean acceptPartialJobs) {
    this(coordinatorHost, coordinatorPort, keyFile, certFile, caFile, dataFile, dataDir, epsilonCap, delta,
        maxMessageBytes, failAtStage, acceptPartialJobs, null, null);
  }

  /** The same settings under another policy. */
  public ParticipantConfig withPolicy(BankPolicy newPolicy) {
    return new ParticipantConfig(coordinatorHost, coordinatorPort, keyFile, certFile, caFile, dataFile, dataDir,
        epsilonCap, delta, maxMessageBytes, failAtStage, acceptPartialJobs, crlFile, bankEpsilonCap, newPolicy,
        testFraction);
  }

  /** The same settings with another test fraction. */
  public ParticipantConfig withTestFraction(double fraction) {
    return new ParticipantConfig(coordinatorHost, coordinatorPort, keyFile, certFile, caFile, dataFile, dataDir,
        epsilonCap, delta, maxMessageBytes, failAtStage, acceptPartialJobs, crlFile, bankEpsilonCap, policy,
        fraction);
  }

  /** @throws IllegalArgumentException naming every bad field and its value */
  public ParticipantConfig validate() {
    List<String> problems = new ArrayList<>();
    if (coordinatorHost == null || coordinatorHost.isBlank()) {
      problems.add("coordinator.host must not be empty");
    }
    if (coordinatorPort < 1 || coordinatorPort > 65535) {
      problems.add("coordinator.port must be between 1 and 65535, got " + coordinatorPort);
    }
    readable(problems, "tls.key", keyFile);
    readable(problems, "tls.cert", certFile);
    readable(problems, "tls.ca", caFile);
    readable(problems, "data.file", dataFile);
    if (dataDir == null) {
      problems.add("data.dir is missing");
    }
    if (!(epsilonCap > 0) || Double.isInfinite(epsilonCap)) {
      problems.add("privacy.epsilon_cap must be finite and > 0, got " + epsilonCap);
    }
    if (!(delta > 0 && delta < 1)) {
      problems.add("privacy.delta must be in (0, 1), got " + delta);
    }
    if (policy == null) {
      problems.add("policy is missing");
    }
    if (!(testFraction > 0 && testFraction < 1)) {
      problems.add("data.test_fraction must be in (0, 1), got " + testFraction);
    }
    if (failAtStage != null && java.util.Arrays.stream(io.consort.protocol.v1.Stage.values())
        .filter(s -> s != io.consort.protocol.v1.Stage.UNRECOGNIZED)
        .noneMatch(s -> ParticipantDaemon.stageName(s).equals(failAtStage))) {
      problems.add("fault.exit_at_stage '" + failAtStage + "' is not a stage name (train, masked-input, ...)");
    }
    if (crlFile != null) {
      readable(problems, "tls.crl", crlFile);
    }
    if (bankEpsilonCap != null && (!(bankEpsilonCap > 0) || bankEpsilonCap.isInfinite())) {
      problems.add("privacy.bank_epsilon_cap must be finite and > 0, got " + bankEpsilonCap);
    }
    if (maxMessageBytes < 1024) {
      problems.add("max_message_bytes must be at least 1024, got " + maxMessageBytes);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("participant config: " + String.join("; ", problems));
    }
    return this;
  }

  private static void readable(List<String> problems, String field, Path file) {
    if (file == null) {
      problems.add(field + " is missing");
    } else if (!Files.isRegularFile(file)) {
      problems.add(field + " file " + file + " does not exist");
    } else if (!Files.isReadable(file)) {
      problems.add(field + " file " + file + " is not readable");
    }
  }
}
