package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ModelPublication;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.Scorer;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The coordinator publishes a sequence model without DL4J, which it never loads. The native engine
 * computes every model, so a process without DL4J (this module's tests, like the coordinator)
 * scores any sequence model, even one its job trained on the dl4j engine; only training on that
 * engine needs consort-model-dl4j, and without it is refused with a message naming the missing
 * module, not a class-loading error.
 */
class SequenceModelPublicationTest {

  @Test
  void sequenceModelsTrainedOnDl4j_arePublishedAndScoredNativelyWithoutDl4j_butTrainingOnDl4jNamesTheMissingModule() {
    assertThrows(ClassNotFoundException.class, () -> Class.forName("io.consort.model.dl4j.Dl4jNetworks"),
        "precondition: the coordinator's class path has no DL4J engine");
    List<String> columns = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      columns.add("r" + c);
    }
    DataSchema schema = new DataSchema(columns, List.of(), "up", "1");
    double[] stds = new double[columns.size()];
    Arrays.fill(stds, 1);
    FeatureEncoding encoding = new FeatureEncoding(schema, new double[columns.size()], stds, List.of());
    PublishedModel relu = publish(JobSpec.builder().id("market-lstm").schema(schema).modelType(ModelType.LSTM)
        .window(4).engine(TrainingEngine.DL4J).build(), columns, encoding);
    assertEquals(ModelType.LSTM, relu.spec().model().type());
    assertDoesNotThrow(() -> Scorer.of(relu), "a ReLU LSTM is scored natively, without DL4J");
    PublishedModel withDropout = publish(JobSpec.builder().id("market-lstm").schema(schema)
        .modelType(ModelType.LSTM).window(4).dropout(0.25).engine(TrainingEngine.DL4J).build(), columns, encoding);
    assertDoesNotThrow(() -> Scorer.of(withDropout), "an LSTM trained with dropout is scored natively, without DL4J");
    JobSpec attentionJob = JobSpec.builder().id("market-attention").schema(schema).modelType(ModelType.ATTENTION)
        .window(4).heads(2).activation(HiddenActivation.TANH).dropout(0.25).engine(TrainingEngine.DL4J).build();
    PublishedModel attention = publish(attentionJob, columns, encoding);
    assertDoesNotThrow(() -> Scorer.of(attention), "a tanh attention model with dropout is scored natively, without DL4J");

    EncodedData rows = new EncodedData(2, columns.size(), new float[2 * columns.size()], new float[] {0, 1});
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new LocalTrainer(attentionJob.model(), rows, attentionJob.training().engine()));
    assertTrue(e.getMessage().startsWith("the 'dl4j' training engine is not available"), e.getMessage());
    assertTrue(e.getMessage().contains("consort-model-dl4j"), e.getMessage());
  }

  private static PublishedModel publish(JobSpec spec, List<String> columns, FeatureEncoding encoding) {
    ModelParameters model = ModelWire.withValues(ModelParameters.newBuilder()
        .setSpec(JobSpecWire.model(spec).toBuilder().setInputFeatures(columns.size()))
        .setEncoding(ModelWire.encoding(encoding)).build(),
        ModelFactory.initialParameters(spec.model(), columns.size()), 3);
    return ModelPublication.publish(spec, model, Optional.empty(), Provenance.newBuilder().setJobId(spec.id()).build());
  }
}
