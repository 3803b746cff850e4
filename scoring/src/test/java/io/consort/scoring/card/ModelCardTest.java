package io.consort.scoring.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.TestRows;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCardTest {
  private final PublishedModel model = TestRows.scorer().model();

  @Test
  void json_carriesEverySectionOfTheCard_withTheModelsFigures() throws Exception {
    JsonNode card = new ObjectMapper().readTree(ModelCard.json(model));
    for (String section : new String[] {"model", "intended_use", "out_of_scope", "data", "performance", "calibration",
        "decision", "reason_codes", "top_features", "privacy", "secure_aggregation", "training", "provenance",
        "checksums"}) {
      assertTrue(card.has(section), section);
    }
    assertEquals(model.fileSha256(), card.at("/checksums/model_file_sha256").asText());
    assertEquals(model.parametersSha256(), card.at("/checksums/parameters_sha256").asText());
    assertEquals(model.evaluation().orElseThrow().getAuc(), card.at("/performance/auc").asDouble(), 0);
    assertEquals("platt", card.at("/calibration/method").asText());
    assertTrue(card.at("/calibration/after/log_loss").asDouble() < card.at("/calibration/base_rate_log_loss")
        .asDouble());
    assertEquals(5, card.at("/decision/cost_matrix/false_negative").asDouble(), 0);
    assertTrue(card.at("/top_features/available").asBoolean());
    JsonNode columns = card.at("/top_features/columns");
    assertTrue(columns.size() >= 10, "every original column is ranked");
    for (int i = 1; i < columns.size(); i++) {
      assertTrue(columns.get(i - 1).get("log_loss_increase").asDouble() >= columns.get(i).get("log_loss_increase")
          .asDouble(), "most important first");
    }
    assertEquals(1, card.at("/data/banks").asInt());
    assertEquals("bank-1", card.at("/privacy/per_bank/0/bank").asText());
  }

  @Test
  void theCard_carriesConsortiumAggregatesOnly_neverABanksOwnRowCount() throws Exception {
    JsonNode card = new ObjectMapper().readTree(ModelCard.json(model));
    JsonNode bank = card.at("/privacy/per_bank/0");
    assertFalse(bank.has("train_rows") || bank.has("test_rows") || bank.has("rows"), bank.toString());
    assertEquals(card.at("/data/training_rows").asLong(), model.provenance().getTrainingRows());
  }

  @Test
  void theCard_namesTheHiddenLayersActivationAndDropout_forAModelTheNativeEngineTrained() throws Exception {
    assertTrue(model.spec().model().nativeKernel());
    JsonNode card = new ObjectMapper().readTree(ModelCard.json(model));
    assertEquals("relu", card.at("/model/activation").asText());
    assertEquals(0, card.at("/model/dropout").asDouble(), 0);
    assertTrue(ModelCard.markdown(model).contains("Multilayer perceptron [64, 32] (relu, dropout 0.0)"),
        ModelCard.markdown(model).lines().filter(l -> l.startsWith("Multilayer")).findFirst().orElse(""));
  }

  @Test
  void markdown_hasTheSectionsAndTheChecksums() {
    String md = ModelCard.markdown(model);
    for (String heading : new String[] {"# Model card: job `german-mlp`", "## Intended use",
        "## Data (consortium aggregates only)", "## Performance", "## Calibration", "## Decision", "## Reasons",
        "## Privacy", "## Secure aggregation", "## Training and provenance"}) {
      assertTrue(md.contains(heading), heading);
    }
    assertTrue(md.contains(model.fileSha256()));
    assertTrue(md.contains("Top features (global importance): permutation importance"));
    assertTrue(md.contains("| column | log-loss increase per row |"));
    assertTrue(md.contains("| model's own probability |"));
  }

  @Test
  void write_putsBothFormsNextToEachOther(@TempDir Path dir) throws Exception {
    Path md = ModelCard.write(dir, "job-model-card", model);
    assertEquals(dir.resolve("job-model-card.md"), md);
    assertEquals(ModelCard.markdown(model), Files.readString(md));
    assertEquals(ModelCard.json(model), Files.readString(dir.resolve("job-model-card.json")));
  }
}
