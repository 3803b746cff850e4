package io.consort.cli.option;

import io.consort.identity.KeyAlgorithm;
import io.consort.certs.RevocationReason;
import io.consort.identity.Role;
import io.consort.model.data.SplitStrategy;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.privacy.accounting.EpsilonConversion;
import io.consort.privacy.ledger.PrivacyUnit;
import io.consort.spec.PrivacyMode;
import io.consort.spec.StrategySpec;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The option values of the {@code consort} commands that take one of a few names, each usable as an
 * option's {@code converter} and {@code completionCandidates}, so that help and errors list the names.
 */
public final class OptionValues {
  private OptionValues() {}

  /** {@code --dp}: record, bank, both or off. */
  public static final class PrivacyModes extends NamedValues<PrivacyMode> {
    public PrivacyModes() {
      super(List.of(PrivacyMode.RECORD, PrivacyMode.BANK, PrivacyMode.BOTH, PrivacyMode.OFF), PrivacyMode::wireName);
    }
  }

  /** {@code --engine}: dl4j or native. */
  public static final class TrainingEngines extends NamedValues<TrainingEngine> {
    public TrainingEngines() {
      super(List.of(TrainingEngine.values()), TrainingEngine::wireName);
    }
  }

  /** {@code --strategy} and a job file's {@code strategy.name}: the server update rules. */
  public static final class Strategies extends NamedValues<StrategySpec.Name> {
    public Strategies() {
      super(List.of(StrategySpec.Name.values()), StrategySpec.Name::wireName);
    }
  }

  /**
   * {@code --model} and a job file's {@code model.type}: mlp, logistic-regression (logreg for short), lstm,
   * simple-rnn, cnn1d or attention.
   */
  public static final class ModelTypes extends NamedValues<ModelType> {
    public ModelTypes() {
      super(List.of(ModelType.values()), ModelType::wireName);
      alias("logreg", ModelType.LOGISTIC_REGRESSION);
    }
  }

  /** A switch given as a value ({@code --secure-aggregation on}); not a Boolean, which picocli treats as a flag. */
  public enum OnOff {
    ON, OFF;

    public boolean on() {
      return this == ON;
    }
  }

  /** {@code --secure-aggregation}: on or off. */
  public static final class OnOffNames extends NamedValues<OnOff> {
    public OnOffNames() {
      super(List.of(OnOff.values()), value -> value.name().toLowerCase(Locale.ROOT));
    }
  }

  /** {@code privacy --conversion}: improved or classic. */
  public static final class EpsilonConversions extends NamedValues<EpsilonConversion> {
    public EpsilonConversions() {
      super(List.of(EpsilonConversion.IMPROVED, EpsilonConversion.CLASSIC),
          conversion -> conversion.name().toLowerCase(Locale.ROOT));
    }
  }

  /** {@code audit report --unit}: record or bank. */
  public static final class PrivacyUnits extends NamedValues<PrivacyUnit> {
    public PrivacyUnits() {
      super(List.of(PrivacyUnit.values()), PrivacyUnit::wireName);
    }
  }

  /** {@code certs --algorithm}: ec-p256, rsa-3072 or ed25519. */
  public static final class KeyAlgorithms extends NamedValues<KeyAlgorithm> {
    public KeyAlgorithms() {
      super(List.of(KeyAlgorithm.values()), KeyAlgorithm::cliName);
    }
  }

  /** {@code certs sign --role}: participant, coordinator, operator or auditor. */
  public static final class Roles extends NamedValues<Role> {
    public Roles() {
      super(List.of(Role.values()), Role::wireName);
    }
  }

  /** {@code certs revoke --reason}: the RFC 5280 reasons a consortium needs. */
  public static final class RevocationReasons extends NamedValues<RevocationReason> {
    public RevocationReasons() {
      super(List.of(RevocationReason.values()), RevocationReason::cliName);
    }
  }

  /** {@code --split}: iid, label-skew or by-column:COL (COL any column of the data). */
  public static final class SplitStrategies implements ITypeConverter<SplitStrategy>, Iterable<String> {
    @Override
    public SplitStrategy convert(String value) {
      try {
        return SplitStrategy.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }

    /** The option's spelling of {@code strategy}, for the demo's output and report. */
    public static String name(SplitStrategy strategy) {
      if (strategy instanceof SplitStrategy.ByColumn byColumn) {
        return "by-column:" + byColumn.column();
      }
      if (strategy instanceof SplitStrategy.Dirichlet dirichlet) {
        return "dirichlet:" + dirichlet.alpha();
      }
      return strategy instanceof SplitStrategy.LabelSkew ? "label-skew" : "iid";
    }

    @Override
    public Iterator<String> iterator() {
      return List.of("iid", "label-skew", "dirichlet:ALPHA", "by-column:COL").iterator();
    }
  }
}
