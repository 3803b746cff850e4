package io.consort.cli.demo;

import io.consort.participant.ParticipantDaemon;
import io.consort.protocol.v1.Stage;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --drop BANK@STAGE}: fault injection that makes bank number {@code bank}'s process exit when a
 * task of {@code stage} arrives.
 *
 * @param bank the bank's number, 1 for {@code bank-1}
 * @param stage one of {@link #STAGES}
 */
record DropFault(int bank, String stage) {
  /** Stages a bank receives a task for (advertise-keys is its answer to train), in wire order. */
  static final List<String> STAGES = Arrays.stream(Stage.values())
      .filter(s -> s != Stage.STAGE_UNSPECIFIED && s != Stage.UNRECOGNIZED && s != Stage.ENROL
          && s != Stage.ADVERTISE_KEYS)
      .map(ParticipantDaemon::stageName)
      .toList();

  private static final Pattern FORM = Pattern.compile("bank-([1-9][0-9]{0,5})@(.+)");

  String bankName() {
    return "bank-" + bank;
  }

  @Override
  public String toString() {
    return bankName() + "@" + stage;
  }

  /**
   * Parses {@code BANK@STAGE}; whether the bank exists depends on {@code --banks}, so the command checks
   * that. As {@code completionCandidates} it lists the stages.
   */
  static final class Converter implements ITypeConverter<DropFault>, Iterable<String> {
    @Override
    public DropFault convert(String value) {
      Matcher m = FORM.matcher(value);
      if (!m.matches()) {
        throw new TypeConversionException("expected BANK@STAGE with BANK bank-1, bank-2, ..., e.g. "
            + "bank-2@masked-input, but was '" + value + "'");
      }
      if (!STAGES.contains(m.group(2))) {
        throw new TypeConversionException("unknown stage '" + m.group(2) + "' in '" + value + "'; expected one of "
            + STAGES);
      }
      return new DropFault(Integer.parseInt(m.group(1)), m.group(2));
    }

    @Override
    public Iterator<String> iterator() {
      return STAGES.iterator();
    }
  }
}
