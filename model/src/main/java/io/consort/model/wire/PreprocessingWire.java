package io.consort.model.wire;

import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.protocol.v1.ColumnPreprocessing;
import io.consort.protocol.v1.MissingPolicy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * Maps a schema's {@link Preprocessing} to the wire's {@code ColumnPreprocessing} entries and back.
 * The way back is strict, as a plan from the network deserves: an entry names a column of the schema
 * once, sets a missing policy, carries only the fields its column's type uses, and changes something.
 */
final class PreprocessingWire {
  private PreprocessingWire() {}

  /** Entries for the columns with rules, numeric columns first, in schema order. */
  static List<ColumnPreprocessing> toProto(DataSchema schema) {
    List<ColumnPreprocessing> out = new ArrayList<>();
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      NumericRules r = schema.numericRules(j);
      if (r.isDefault()) {
        continue;
      }
      ColumnPreprocessing.Builder b = ColumnPreprocessing.newBuilder().setColumn(schema.numericColumns().get(j))
          .setMissing(policy(r.imputation())).setMissingIndicator(r.missingIndicator())
          .addAllNumericSentinels(r.sentinels()).addAllTextSentinels(r.textSentinels());
      r.constant().ifPresent(b::setFillNumber);
      r.clip().ifPresent(c -> b.setClipLowerQuantile(c.lower()).setClipUpperQuantile(c.upper()));
      out.add(b.build());
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      CategoricalRules r = schema.categoricalRules(j);
      if (r.isDefault()) {
        continue;
      }
      ColumnPreprocessing.Builder b = ColumnPreprocessing.newBuilder()
          .setColumn(schema.categoricalColumns().get(j).name()).setMissing(policy(r.imputation()))
          .setMissingIndicator(r.missingIndicator()).addAllTextSentinels(r.sentinels())
          .setUnseenToOther(r.unseenToOther());
      r.constant().ifPresent(b::setFillCategory);
      out.add(b.build());
    }
    return out;
  }

  /** @throws IllegalArgumentException naming the column and field */
  static Preprocessing fromProto(DataSchema schema, List<ColumnPreprocessing> entries) {
    Map<String, NumericRules> numeric = new LinkedHashMap<>();
    Map<String, CategoricalRules> categorical = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    Set<String> categoricalNames = new HashSet<>();
    schema.categoricalColumns().forEach(c -> categoricalNames.add(c.name()));
    for (ColumnPreprocessing e : entries) {
      String column = e.getColumn();
      String where = "preprocessing of column '" + column + "'";
      if (!seen.add(column)) {
        throw new IllegalArgumentException(where + " is given twice");
      }
      Imputation imputation = imputation(where, e.getMissing());
      try {
        if (schema.numericColumns().contains(column)) {
          refuse(where, e.hasFillCategory(), "fill_category");
          refuse(where, e.getUnseenToOther(), "unseen_to_other");
          if (e.hasClipLowerQuantile() != e.hasClipUpperQuantile()) {
            throw new IllegalArgumentException(where + " sets one clip quantile; a clip needs both");
          }
          NumericRules rules = new NumericRules(imputation,
              e.hasFillNumber() ? OptionalDouble.of(e.getFillNumber()) : OptionalDouble.empty(),
              e.getMissingIndicator(), e.getNumericSentinelsList(), e.getTextSentinelsList(), e.hasClipLowerQuantile()
                  ? Optional.of(new QuantileClip(e.getClipLowerQuantile(), e.getClipUpperQuantile()))
                  : Optional.empty());
          if (rules.isDefault()) {
            throw new IllegalArgumentException(where + " changes nothing (leave it out)");
          }
          numeric.put(column, rules);
        } else if (categoricalNames.contains(column)) {
          refuse(where, e.hasFillNumber(), "fill_number");
          refuse(where, e.getNumericSentinelsCount() > 0, "numeric_sentinels");
          refuse(where, e.hasClipLowerQuantile() || e.hasClipUpperQuantile(), "clip quantiles");
          CategoricalRules rules = new CategoricalRules(imputation,
              e.hasFillCategory() ? Optional.of(e.getFillCategory()) : Optional.empty(), e.getMissingIndicator(),
              e.getTextSentinelsList(), e.getUnseenToOther());
          if (rules.isDefault()) {
            throw new IllegalArgumentException(where + " changes nothing (leave it out)");
          }
          categorical.put(column, rules);
        } else {
          throw new IllegalArgumentException(where + ": no feature column of the schema has that name");
        }
      } catch (IllegalArgumentException ex) {
        throw ex.getMessage().startsWith(where) ? ex : new IllegalArgumentException(where + ": " + ex.getMessage(), ex);
      }
    }
    return new Preprocessing(numeric, categorical);
  }

  private static void refuse(String where, boolean set, String field) {
    if (set) {
      throw new IllegalArgumentException(where + " sets " + field + ", which that column's type does not use");
    }
  }

  private static Imputation imputation(String where, MissingPolicy policy) {
    return switch (policy) {
      case MISSING_REFUSE -> Imputation.REFUSE;
      case MISSING_MEAN -> Imputation.MEAN;
      case MISSING_MEDIAN -> Imputation.MEDIAN;
      case MISSING_MOST_FREQUENT -> Imputation.MOST_FREQUENT;
      case MISSING_CONSTANT -> Imputation.CONSTANT;
      default -> throw new IllegalArgumentException(where + " needs a missing policy (refuse, mean, median, "
          + "most_frequent or constant), got " + policy);
    };
  }

  private static MissingPolicy policy(Imputation imputation) {
    return switch (imputation) {
      case REFUSE -> MissingPolicy.MISSING_REFUSE;
      case MEAN -> MissingPolicy.MISSING_MEAN;
      case MEDIAN -> MissingPolicy.MISSING_MEDIAN;
      case MOST_FREQUENT -> MissingPolicy.MISSING_MOST_FREQUENT;
      case CONSTANT -> MissingPolicy.MISSING_CONSTANT;
    };
  }
}
