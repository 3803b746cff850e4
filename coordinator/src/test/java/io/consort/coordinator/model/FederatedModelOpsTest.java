package io.consort.coordinator.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.model.train.ModelFactory;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.DataSchema;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelSpec;
import io.consort.protocol.v1.ModelType;
import io.consort.protocol.v1.NumericFeature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FederatedModelOpsTest {

  /**
   * The coordinator runs without DL4J, ND4J and their native libraries: Maven must keep them (and
   * consort-model-dl4j) off its class path. The test class path contains the runtime one.
   */
  @ParameterizedTest
  @ValueSource(strings = {"org.nd4j.linalg.factory.Nd4j",
      "org.deeplearning4j.nn.multilayer.MultiLayerNetwork", "org.bytedeco.javacpp.Loader",
      "io.consort.model.dl4j.Dl4jNetworks"})
  void classIsNotOnTheCoordinatorsClassPath(String className) {
    assertThrows(ClassNotFoundException.class,
        () -> Class.forName(className, false, getClass().getClassLoader()));
  }

  @Test
  void initialModelIsTheSeededXavierInitialisation_forTheEncodedWidth() {
    JobPlan plan = JobPlan.newBuilder()
        .setSchema(DataSchema.newBuilder().addNumericColumns("income").addNumericColumns("age")
            .setLabelColumn("default").setPositiveClass("yes"))
        .setModel(ModelSpec.newBuilder().setType(ModelType.MLP).addHiddenLayers(4).setSeed(17))
        .build();
    FeatureEncoding encoding = FeatureEncoding.newBuilder().setLabelColumn("default")
        .setPositiveClass("yes")
        .addNumeric(NumericFeature.newBuilder().setName("income").setMean(1).setStd(2))
        .addNumeric(NumericFeature.newBuilder().setName("age").setMean(40).setStd(10))
        .build();

    ModelParameters model = new FederatedModelOps().initialModel(plan, encoding);

    assertEquals(2, model.getSpec().getInputFeatures());
    assertEquals(0, model.getVersion());
    assertArrayEquals(ModelFactory.initialParameters(ModelWire.spec(plan.getModel()), 2),
        ModelWire.values(model));
  }
}
