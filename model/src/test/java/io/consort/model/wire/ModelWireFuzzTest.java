package io.consort.model.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.consort.model.data.DataSchema;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.WireLimits;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import java.util.List;

/**
 * Fuzz target: any bytes as the model vectors and statistics that cross the network (a global
 * model a bank receives, a bank's update and feature statistics the coordinator receives), mapped
 * to the model's values. Allowed refusals: {@link ProtocolViolationException} (not a message) and
 * {@link IllegalArgumentException} naming what does not fit the schema. Long run: docs/FUZZING.md.
 */
class ModelWireFuzzTest {
  private static final DataSchema SCHEMA = new DataSchema(List.of("income"),
      List.of(new DataSchema.CategoricalColumn("region", List.of())), "default", "yes");

  @FuzzTest(maxDuration = "20s")
  void anyModelMessage_mapsOrIsRefusedByName(byte[] bytes) {
    try {
      ModelParameters model = WireLimits.decode(ModelParameters.parser(), bytes, 1 << 20, "model");
      ModelWire.values(model);
      ModelWire.encoding(SCHEMA, model.getEncoding());
    } catch (ProtocolViolationException | IllegalArgumentException expected) {
      // refused by name: fine
    }
    try {
      ModelWire.delta(WireLimits.decode(ModelUpdate.parser(), bytes, 1 << 20, "update"));
    } catch (ProtocolViolationException expected) {
      // refused by name: fine
    }
    try {
      ModelWire.stats(SCHEMA, WireLimits.decode(FeatureStats.parser(), bytes, 1 << 20, "statistics"));
    } catch (ProtocolViolationException | IllegalArgumentException expected) {
      // refused by name: fine
    }
  }
}
