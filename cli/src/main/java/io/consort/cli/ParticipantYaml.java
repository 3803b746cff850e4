package io.consort.cli;

import static java.util.Objects.requireNonNullElse;

import io.consort.participant.BankPolicy;
import io.consort.participant.ParticipantConfig;
import io.consort.protocol.WireLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The keys of a bank's {@code bank-x.yaml} (docs/OPERATIONS.md). A null value was left out of the file
 * (a section left out has every value null); {@link #toConfig} applies the defaults, except to the bank's
 * privacy limits, which it requires.
 */
record ParticipantYaml(Coordinator coordinator, Tls tls, Data data, Privacy privacy, Policy policy,
                       Integer maxMessageBytes, Fault fault) {
  ParticipantYaml {
    coordinator = requireNonNullElse(coordinator, new Coordinator(null, null));
    tls = requireNonNullElse(tls, new Tls(null, null, null, null));
    data = requireNonNullElse(data, new Data(null, null, null));
    privacy = requireNonNullElse(privacy, new Privacy(null, null, null, null));
    fault = requireNonNullElse(fault, new Fault(null));
    policy = requireNonNullElse(policy, new Policy(null, null, null, null));
  }

  record Coordinator(String host, Integer port) {}

  /** {@code crl}: the consortium CA's CRL, reloaded when it changes; optional. */
  record Tls(String key, String cert, String ca, String crl) {}

  /**
   * {@code dir}: the bank's own records (ledger copy, spend journal, split key); default {@code bank-data}.
   * {@code test_fraction}: the share of rows the bank holds out for evaluation; default 0.2.
   */
  record Data(String file, String dir, Double testFraction) {}

  /** {@code bank_epsilon_cap}: optional bank-level cap (a whole bank's participation), at {@code delta}. */
  record Privacy(Double epsilonCap, Double delta, Boolean acceptPartialJobs, Double bankEpsilonCap) {}

  /**
   * Which jobs the bank takes part in; left out, the strict defaults of {@link BankPolicy#strict()}:
   * record-level DP and secure aggregation required, at least 2 banks, no minimum threshold of its own.
   */
  record Policy(Boolean allowNonPrivateJobs, Boolean requireSecureAggregation, Integer minBanks,
                Integer minThreshold) {
    BankPolicy toPolicy() {
      BankPolicy strict = BankPolicy.strict();
      return new BankPolicy(requireNonNullElse(allowNonPrivateJobs, strict.allowNonPrivateJobs()),
          requireNonNullElse(requireSecureAggregation, strict.requireSecureAggregation()),
          requireNonNullElse(minBanks, strict.minBanks()),
          minThreshold == null ? OptionalInt.empty() : OptionalInt.of(minThreshold));
    }
  }

  /** Fault injection for tests and the demo: exit when a task of this stage arrives. */
  record Fault(String exitAtStage) {}

  /**
   * The daemon's settings, relative paths resolved against the directory of {@code file}; not yet
   * validated.
   *
   * @throws IllegalArgumentException naming the key that is missing or is no path
   */
  ParticipantConfig toConfig(Path file) {
    List<String> missing = new ArrayList<>();
    if (privacy.epsilonCap() == null) {
      missing.add("privacy.epsilon_cap");
    }
    if (privacy.delta() == null) {
      missing.add("privacy.delta");
    }
    if (!missing.isEmpty()) {
      // a privacy limit is the bank's own decision: no default stands in for it
      throw new IllegalArgumentException(String.join(" and ", missing) + (missing.size() == 1 ? " is" : " are")
          + " required: add this bank's own record-level privacy limits, e.g. privacy: {epsilon_cap: 3.0, "
          + "delta: 1.0e-5}; a privacy limit has no default");
    }
    return new ParticipantConfig(requireNonNullElse(coordinator.host(), "localhost"),
        requireNonNullElse(coordinator.port(), 7443),
        StrictYaml.resolve(file, "tls.key", tls.key()), StrictYaml.resolve(file, "tls.cert", tls.cert()),
        StrictYaml.resolve(file, "tls.ca", tls.ca()), StrictYaml.resolve(file, "data.file", data.file()),
        StrictYaml.resolve(file, "data.dir", requireNonNullElse(data.dir(), "bank-data")),
        privacy.epsilonCap(), privacy.delta(),
        requireNonNullElse(maxMessageBytes, WireLimits.DEFAULT_MAX_MESSAGE_BYTES), fault.exitAtStage(),
        requireNonNullElse(privacy.acceptPartialJobs(), false),
        StrictYaml.resolve(file, "tls.crl", tls.crl()), privacy.bankEpsilonCap(), policy.toPolicy(),
        requireNonNullElse(data.testFraction(), ParticipantConfig.DEFAULT_TEST_FRACTION));
  }
}
