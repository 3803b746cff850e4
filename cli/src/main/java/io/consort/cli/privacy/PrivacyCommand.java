package io.consort.cli.privacy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.consort.cli.option.OptionValues;
import io.consort.privacy.accounting.EpsilonConversion;
import io.consort.privacy.accounting.NoiseCalibration;
import io.consort.privacy.accounting.PrivacyGuarantee;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.RdpOrders;
import io.consort.privacy.accounting.SampledGaussianEvent;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort privacy}: the RDP accountant from the command line. Bad parameters exit with status 2
 * and the {@link io.consort.privacy.DpPreconditions} message.
 */
@Command(name = "privacy", mixinStandardHelpOptions = true,
    description = "Differential-privacy accounting: epsilon for a noise level, or noise for a target epsilon.",
    subcommands = {PrivacyCommand.Epsilon.class, PrivacyCommand.Noise.class})
public final class PrivacyCommand implements Runnable {

  /** Exit status for invalid privacy parameters. */
  static final int BAD_PARAMETER = 2;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Shared options: the accounting choices. */
  static class AccountingOptions {
    @Option(names = "--sampling-rate", required = true, description = "Poisson sampling rate q in (0, 1].")
    double samplingRate;

    @Option(names = "--steps", required = true, description = "Number of composed steps (or rounds), >= 1.")
    long steps;

    @Option(names = "--delta", required = true, description = "Target delta in (0, 1).")
    double delta;

    @Option(names = "--conversion", defaultValue = "improved", converter = OptionValues.EpsilonConversions.class,
        completionCandidates = OptionValues.EpsilonConversions.class,
        description = "RDP to (epsilon, delta) conversion: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    EpsilonConversion conversion;

    @Option(names = "--json", description = "Print JSON instead of key=value.")
    boolean json;

    RdpAccountant accountant() {
      return new RdpAccountant(RdpOrders.defaults(), conversion);
    }

    /** The parameters every JSON answer repeats, so a saved answer says what it was computed for. */
    ObjectNode json(RdpAccountant accountant) {
      ObjectNode node = JSON.createObjectNode();
      node.put("delta", delta);
      node.put("sampling_rate", samplingRate);
      node.put("steps", steps);
      node.put("conversion", accountant.conversion().name().toLowerCase(Locale.ROOT));
      return node;
    }
  }

  @Command(name = "epsilon", mixinStandardHelpOptions = true,
      description = "Epsilon of a Poisson-subsampled Gaussian mechanism run for T steps.")
  static final class Epsilon implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--noise-multiplier", required = true, description = "Noise multiplier z > 0.")
    double noiseMultiplier;

    @picocli.CommandLine.Mixin
    AccountingOptionsMixin options;

    @Override
    public Integer call() throws Exception {
      return guarded(spec, () -> {
        RdpAccountant accountant = options.accountant();
        PrivacyGuarantee g = accountant.guarantee(
            List.of(new SampledGaussianEvent(noiseMultiplier, options.samplingRate, options.steps)), options.delta);
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
          ObjectNode node = options.json(accountant);
          node.put("epsilon", g.epsilon());
          node.put("order", g.order());
          node.put("noise_multiplier", noiseMultiplier);
          out.println(JSON.writeValueAsString(node));
        } else {
          out.println("epsilon=" + g.epsilon());
        }
      });
    }
  }

  @Command(name = "noise", mixinStandardHelpOptions = true,
      description = "Smallest noise multiplier meeting a target epsilon (bisection, relative tolerance 1e-6).")
  static final class Noise implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--target-epsilon", required = true, description = "Target epsilon > 0.")
    double targetEpsilon;

    @picocli.CommandLine.Mixin
    AccountingOptionsMixin options;

    @Override
    public Integer call() throws Exception {
      return guarded(spec, () -> {
        RdpAccountant accountant = options.accountant();
        double z = new NoiseCalibration(accountant, NoiseCalibration.DEFAULT_RELATIVE_TOLERANCE)
            .noiseMultiplier(targetEpsilon, options.samplingRate, options.steps, options.delta);
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
          ObjectNode node = options.json(accountant);
          node.put("noise_multiplier", z);
          node.put("target_epsilon", targetEpsilon);
          node.put("achieved_epsilon", accountant.epsilon(
              new SampledGaussianEvent(z, options.samplingRate, options.steps), options.delta));
          out.println(JSON.writeValueAsString(node));
        } else {
          out.println("noise_multiplier=" + z);
        }
      });
    }
  }

  /** picocli mixins must be their own class with a no-arg constructor. */
  static final class AccountingOptionsMixin extends AccountingOptions {}

  interface Body {
    void run() throws Exception;
  }

  /** Runs {@code body}; an invalid parameter prints its message and returns {@link #BAD_PARAMETER}. */
  static int guarded(CommandSpec spec, Body body) throws Exception {
    try {
      body.run();
      return 0;
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("error: " + e.getMessage());
      return BAD_PARAMETER;
    }
  }
}
