package io.consort.coordinator;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The coordinator runs without DL4J, ND4J and their native libraries: it initialises and averages
 * models in plain Java (consort-model), and Maven must keep DL4J and consort-model-dl4j off its
 * class path. The test class path contains the runtime one, so a dependency that brought them back
 * fails here; the architecture module's rules check the coordinator's code itself.
 */
class CoordinatorClassPathTest {

  @ParameterizedTest
  @ValueSource(strings = {"org.nd4j.linalg.factory.Nd4j",
      "org.deeplearning4j.nn.multilayer.MultiLayerNetwork", "org.bytedeco.javacpp.Loader",
      "io.consort.model.dl4j.Dl4jNetworks"})
  void classIsNotOnTheCoordinatorsClassPath(String className) {
    assertThrows(ClassNotFoundException.class,
        () -> Class.forName(className, false, getClass().getClassLoader()));
  }
}
