package io.consort.model.wire;

import io.consort.model.data.DataSchema;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.protocol.v1.CategoricalColumn;
import io.consort.protocol.v1.CategoricalColumnStats;
import io.consort.protocol.v1.CategoryCount;
import io.consort.protocol.v1.CategoricalFeature;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.NumericColumnStats;
import io.consort.protocol.v1.NumericFeature;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Maps the model module's plain records to and from the {@code consort.v1} wire messages, in one
 * place for both the coordinator and the participant.
 */
public final class ModelWire {
  private ModelWire() {}

  /**
   * The schema a wire schema describes, strictly: every preprocessing entry must name a column once,
   * carry only the fields its column's type uses and change something.
   *
   * @throws IllegalArgumentException naming the column and the field that is wrong
   */
  public static DataSchema schema(io.consort.protocol.v1.DataSchema wire) {
    List<DataSchema.CategoricalColumn> categorical = new ArrayList<>();
    for (CategoricalColumn c : wire.getCategoricalColumnsList()) {
      categorical.add(new DataSchema.CategoricalColumn(c.getName(), c.getAllowedValuesList()));
    }
    DataSchema plain = new DataSchema(wire.getNumericColumnsList(), categorical, wire.getLabelColumn(),
        wire.getPositiveClass(), io.consort.model.data.Preprocessing.NONE,
        wire.hasLabelBound() ? java.util.OptionalDouble.of(wire.getLabelBound()) : java.util.OptionalDouble.empty());
    if (wire.getPreprocessingCount() == 0) {
      return plain;
    }
    return plain.withPreprocessing(PreprocessingWire.fromProto(plain, wire.getPreprocessingList()));
  }

  public static io.consort.protocol.v1.DataSchema schema(DataSchema schema) {
    io.consort.protocol.v1.DataSchema.Builder b = io.consort.protocol.v1.DataSchema.newBuilder()
        .addAllNumericColumns(schema.numericColumns()).setLabelColumn(schema.labelColumn())
        .setPositiveClass(schema.positiveClass());
    schema.labelBound().ifPresent(b::setLabelBound);
    for (DataSchema.CategoricalColumn c : schema.categoricalColumns()) {
      b.addCategoricalColumns(CategoricalColumn.newBuilder().setName(c.name()).addAllAllowedValues(c.allowedCategories()));
    }
    b.addAllPreprocessing(PreprocessingWire.toProto(schema));
    return b.build();
  }

  public static FeatureStats stats(LocalFeatureStats stats, long trainRows, long testRows) {
    FeatureStats.Builder b = FeatureStats.newBuilder().setRows(stats.rows()).setPositives(stats.positives())
        .setTrainRows(trainRows).setTestRows(testRows);
    for (LocalFeatureStats.NumericStats n : stats.numeric()) {
      b.addNumeric(NumericColumnStats.newBuilder().setName(n.column()).setCount(n.count()).setSum(n.sum())
          .setSumOfSquares(n.sumOfSquares()));
    }
    List<DataSchema.CategoricalColumn> columns = stats.schema().categoricalColumns();
    for (int j = 0; j < columns.size(); j++) {
      CategoricalColumnStats.Builder c = CategoricalColumnStats.newBuilder().setName(columns.get(j).name());
      for (Map.Entry<String, Long> e : stats.categoryCounts().get(j).entrySet()) {
        c.addCounts(CategoryCount.newBuilder().setValue(e.getKey()).setCount(e.getValue()));
      }
      b.addCategorical(c);
    }
    return b.build();
  }

  /** @throws IllegalArgumentException naming the column when the statistics do not fit the schema */
  public static LocalFeatureStats stats(DataSchema schema, FeatureStats wire) {
    List<LocalFeatureStats.NumericStats> numeric = new ArrayList<>();
    for (NumericColumnStats n : wire.getNumericList()) {
      numeric.add(new LocalFeatureStats.NumericStats(n.getName(), n.getCount(), n.getSum(), n.getSumOfSquares()));
    }
    List<SortedMap<String, Long>> counts = new ArrayList<>();
    for (int j = 0; j < wire.getCategoricalCount(); j++) {
      CategoricalColumnStats c = wire.getCategorical(j);
      if (j < schema.categoricalColumns().size() && !c.getName().equals(schema.categoricalColumns().get(j).name())) {
        throw new IllegalArgumentException("categorical statistics " + j + " are for column '" + c.getName()
            + "', the schema has '" + schema.categoricalColumns().get(j).name() + "'");
      }
      SortedMap<String, Long> m = new TreeMap<>();
      c.getCountsList().forEach(cc -> m.put(cc.getValue(), cc.getCount()));
      counts.add(m);
    }
    return new LocalFeatureStats(schema, wire.getRows(), wire.getPositives(), numeric, counts);
  }

  public static io.consort.protocol.v1.FeatureEncoding encoding(FeatureEncoding encoding) {
    DataSchema schema = encoding.schema();
    io.consort.protocol.v1.FeatureEncoding.Builder b = io.consort.protocol.v1.FeatureEncoding.newBuilder()
        .setLabelColumn(schema.labelColumn()).setPositiveClass(schema.positiveClass());
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      FeatureEncoding.NumericTreatment t = encoding.numericTreatments().get(j);
      NumericFeature.Builder n = NumericFeature.newBuilder().setName(schema.numericColumns().get(j))
          .setMean(encoding.means()[j]).setStd(encoding.stds()[j]);
      if (t.fills()) {
        n.setFill(t.fill());
      }
      if (t.clips()) {
        n.setClipLower(t.clipLower()).setClipUpper(t.clipUpper());
      }
      b.addNumeric(n);
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      CategoricalFeature.Builder c = CategoricalFeature.newBuilder().setName(schema.categoricalColumns().get(j).name())
          .addAllCategories(encoding.categories().get(j));
      if (encoding.categoryFills().get(j) != null) {
        c.setFill(encoding.categoryFills().get(j));
      }
      b.addCategorical(c);
    }
    return b.build();
  }

  /**
   * @throws IllegalArgumentException naming the column when the encoding does not match the schema
   *     this bank loaded its data with
   */
  public static FeatureEncoding encoding(DataSchema schema, io.consort.protocol.v1.FeatureEncoding wire) {
    if (wire.getNumericCount() != schema.numericColumns().size()
        || wire.getCategoricalCount() != schema.categoricalColumns().size()) {
      throw new IllegalArgumentException("feature encoding has " + wire.getNumericCount() + " numeric and "
          + wire.getCategoricalCount() + " categorical columns but the schema has " + schema.numericColumns().size()
          + " and " + schema.categoricalColumns().size());
    }
    double[] means = new double[wire.getNumericCount()];
    double[] stds = new double[wire.getNumericCount()];
    List<FeatureEncoding.NumericTreatment> treatments = new ArrayList<>();
    for (int j = 0; j < means.length; j++) {
      NumericFeature n = wire.getNumeric(j);
      if (!n.getName().equals(schema.numericColumns().get(j))) {
        throw new IllegalArgumentException("feature encoding column " + j + " is '" + n.getName()
            + "' but the schema has '" + schema.numericColumns().get(j) + "'");
      }
      if (n.hasClipLower() != n.hasClipUpper()) {
        throw new IllegalArgumentException("feature encoding column '" + n.getName() + "' has one clip bound");
      }
      means[j] = n.getMean();
      stds[j] = n.getStd();
      treatments.add(new FeatureEncoding.NumericTreatment(n.hasFill() ? n.getFill() : Double.NaN,
          n.hasClipLower() ? n.getClipLower() : Double.NEGATIVE_INFINITY,
          n.hasClipUpper() ? n.getClipUpper() : Double.POSITIVE_INFINITY));
    }
    List<List<String>> categories = new ArrayList<>();
    List<String> fills = new ArrayList<>();
    for (int j = 0; j < wire.getCategoricalCount(); j++) {
      CategoricalFeature c = wire.getCategorical(j);
      if (!c.getName().equals(schema.categoricalColumns().get(j).name())) {
        throw new IllegalArgumentException("feature encoding categorical column " + j + " is '" + c.getName()
            + "' but the schema has '" + schema.categoricalColumns().get(j).name() + "'");
      }
      categories.add(c.getCategoriesList());
      fills.add(c.hasFill() ? c.getFill() : null);
    }
    return new FeatureEncoding(schema, means, stds, categories, treatments, fills);
  }

  /** A model with new values: same spec and encoding, the given version, the values' SHA-256. */
  public static io.consort.protocol.v1.ModelParameters withValues(io.consort.protocol.v1.ModelParameters template,
                                                                  float[] values, long version) {
    io.consort.protocol.v1.ModelParameters.Builder b = template.toBuilder().clearValues().setVersion(version)
        .setSha256(io.consort.protocol.ModelChecksum.sha256Hex(values));
    for (float v : values) {
      b.addValues(v);
    }
    return b.build();
  }

  public static float[] delta(io.consort.protocol.v1.ModelUpdate update) {
    float[] out = new float[update.getDeltaCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = update.getDelta(i);
    }
    return out;
  }

  public static float[] values(io.consort.protocol.v1.ModelParameters params) {
    float[] out = new float[params.getValuesCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = params.getValues(i);
    }
    return out;
  }
}
