package io.consort.cli;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.job.JobDefinition;
import io.consort.participant.ParticipantConfig;
import io.consort.protocol.WireLimits;
import io.consort.protocol.v1.CategoricalColumn;
import io.consort.protocol.v1.DataSchema;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelSpec;
import io.consort.protocol.v1.ModelType;
import io.consort.protocol.v1.PrivacyPlan;
import io.consort.protocol.v1.PrivacyUnit;
import io.consort.protocol.v1.SecAggPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** Reads {@code coordinator.yaml} and {@code bank-x.yaml} into validated configs, and writes them. */
public final class ConfigFiles {
  private ConfigFiles() {}

  static CoordinatorConfig coordinator(Path file) {
    YamlConfig y = YamlConfig.load(file);
    YamlConfig listen = y.section("listen");
    YamlConfig tls = y.section("tls");
    YamlConfig job = y.section("job");
    JobPlan plan = jobPlan(job);
    int expected = job.integer("expected_banks", plan.getMinBanks());
    JobDefinition definition;
    try {
      definition = new JobDefinition(plan, expected,
          Duration.ofSeconds(job.integer("start_timeout_seconds", 300)),
          Duration.ofSeconds(job.integer("stage_timeout_seconds", 120)));
    } catch (IllegalArgumentException e) {
      throw new YamlConfig.ConfigException(file + ": job: " + e.getMessage());
    }
    return new CoordinatorConfig(listen.string("host", "0.0.0.0"), listen.integer("port", 7443),
        tls.path("key"), tls.path("cert"), tls.path("ca"), tls.path("crl"),
        y.has("data_dir") ? y.path("data_dir") : file.toAbsolutePath().getParent().resolve("coordinator-data"),
        y.integer("max_message_bytes", WireLimits.DEFAULT_MAX_MESSAGE_BYTES),
        Duration.ofSeconds(y.integer("crl_reload_seconds", 30)), y.bool("exit_when_done", false), definition,
        y.section("api").integer("port", -1))
        .validate();
  }

  static JobPlan jobPlan(YamlConfig job) {
    YamlConfig schema = job.section("schema");
    DataSchema.Builder s = DataSchema.newBuilder().setLabelColumn(schema.requiredString("label"))
        .setPositiveClass(schema.requiredString("positive"));
    for (Object o : schema.list("numeric")) {
      s.addNumericColumns(String.valueOf(o));
    }
    for (Object o : schema.list("categorical")) {
      if (o instanceof String name) {
        s.addCategoricalColumns(CategoricalColumn.newBuilder().setName(name));
      } else {
        YamlConfig c = schema.wrap("categorical", o);
        CategoricalColumn.Builder col = CategoricalColumn.newBuilder().setName(c.requiredString("name"));
        c.list("values").forEach(v -> col.addAllowedValues(String.valueOf(v)));
        s.addCategoricalColumns(col);
      }
    }
    YamlConfig model = job.section("model");
    String type = model.string("type", "mlp").toLowerCase(Locale.ROOT);
    ModelSpec.Builder m = ModelSpec.newBuilder()
        .setType(switch (type) {
          case "mlp" -> ModelType.MLP;
          case "logistic-regression", "logreg" -> ModelType.LOGISTIC_REGRESSION;
          default -> throw new YamlConfig.ConfigException(job.file() + ": job.model.type must be mlp or "
              + "logistic-regression, got '" + type + "'");
        })
        .setBatchSize(model.integer("batch_size", 32)).setLearningRate(model.number("learning_rate", 0.003))
        .setSeed(model.longValue("seed", 7)).setL2(model.number("l2", 0)).setEngine(model.string("engine", ""));
    List<Object> hidden = model.has("hidden") ? model.list("hidden") : (type.equals("mlp") ? List.of(64, 32) : List.of());
    hidden.forEach(h -> m.addHiddenLayers(((Number) h).intValue()));
    YamlConfig privacy = job.section("privacy");
    String unit = privacy.string("unit", "off").toLowerCase(Locale.ROOT);
    PrivacyPlan.Builder p = PrivacyPlan.newBuilder()
        .setUnit(switch (unit) {
          case "off" -> PrivacyUnit.PRIVACY_OFF;
          case "record" -> PrivacyUnit.RECORD;
          case "bank" -> PrivacyUnit.BANK;
          case "both" -> PrivacyUnit.RECORD_AND_BANK;
          default -> throw new YamlConfig.ConfigException(job.file() + ": job.privacy.unit must be off, record, bank "
              + "or both, got '" + unit + "'");
        })
        .setRecordNoiseMultiplier(privacy.number("record_noise_multiplier", 0))
        .setRecordClipNorm(privacy.number("record_clip_norm", 1.0)).setDelta(privacy.number("delta", 1e-5))
        .setTargetEpsilon(privacy.number("target_epsilon", 0))
        .setBankNoiseMultiplier(privacy.number("bank_noise_multiplier", 0));
    YamlConfig secagg = job.section("secure_aggregation");
    SecAggPlan.Builder a = SecAggPlan.newBuilder().setEnabled(secagg.bool("enabled", true))
        .setThreshold(secagg.integer("threshold", 0)).setNeighbourDegree(secagg.integer("neighbour_degree", 0))
        .setModulusBits(secagg.integer("modulus_bits", 32)).setClipNorm(secagg.number("clip_norm", 10.0));
    return JobPlan.newBuilder().setJobId(job.requiredString("id")).setSchema(s).setModel(m)
        .setRounds(job.integer("rounds", 10)).setLocalEpochs(job.integer("local_epochs", 1))
        .setMinBanks(job.integer("min_banks", 2)).setTestFraction(job.number("test_fraction", 0.2))
        .setSplitSeed(job.longValue("split_seed", 42)).setHistogramBins(job.integer("histogram_bins", 10_000))
        .setPrivacy(p).setSecureAggregation(a).build();
  }

  static ParticipantConfig participant(Path file) {
    YamlConfig y = YamlConfig.load(file);
    YamlConfig coordinator = y.section("coordinator");
    YamlConfig tls = y.section("tls");
    YamlConfig data = y.section("data");
    YamlConfig privacy = y.section("privacy");
    YamlConfig fault = y.section("fault");
    return new ParticipantConfig(coordinator.string("host", "localhost"), coordinator.integer("port", 7443),
        tls.path("key"), tls.path("cert"), tls.path("ca"), data.path("file"),
        data.has("dir") ? data.path("dir") : file.toAbsolutePath().getParent().resolve("bank-data"),
        privacy.number("epsilon_cap", 3.0), privacy.number("delta", 1e-5),
        y.integer("max_message_bytes", WireLimits.DEFAULT_MAX_MESSAGE_BYTES), fault.string("exit_at_stage", null),
        privacy.bool("accept_partial_jobs", false))
        .validate();
  }

  // ------------------------------------------------------------------ writing (used by the demo)

  public static Map<String, Object> jobYaml(JobPlan plan, int expectedBanks, int startTimeoutSeconds, int stageTimeoutSeconds) {
    Map<String, Object> schema = new LinkedHashMap<>();
    schema.put("label", plan.getSchema().getLabelColumn());
    schema.put("positive", plan.getSchema().getPositiveClass());
    schema.put("numeric", new ArrayList<>(plan.getSchema().getNumericColumnsList()));
    List<Object> categorical = new ArrayList<>();
    for (CategoricalColumn c : plan.getSchema().getCategoricalColumnsList()) {
      Map<String, Object> col = new LinkedHashMap<>();
      col.put("name", c.getName());
      if (c.getAllowedValuesCount() > 0) {
        col.put("values", new ArrayList<>(c.getAllowedValuesList()));
      }
      categorical.add(col);
    }
    schema.put("categorical", categorical);
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", plan.getModel().getType() == ModelType.MLP ? "mlp" : "logistic-regression");
    model.put("hidden", plan.getModel().getHiddenLayersList().stream().map(Integer::valueOf).toList());
    model.put("batch_size", plan.getModel().getBatchSize());
    model.put("learning_rate", plan.getModel().getLearningRate());
    model.put("seed", plan.getModel().getSeed());
    model.put("l2", plan.getModel().getL2());
    if (!plan.getModel().getEngine().isBlank()) {
      model.put("engine", plan.getModel().getEngine());
    }
    Map<String, Object> privacy = new LinkedHashMap<>();
    PrivacyPlan p = plan.getPrivacy();
    privacy.put("unit", switch (p.getUnit()) {
      case RECORD -> "record";
      case BANK -> "bank";
      case RECORD_AND_BANK -> "both";
      default -> "off";
    });
    privacy.put("record_noise_multiplier", p.getRecordNoiseMultiplier());
    privacy.put("record_clip_norm", p.getRecordClipNorm());
    privacy.put("delta", p.getDelta());
    privacy.put("target_epsilon", p.getTargetEpsilon());
    privacy.put("bank_noise_multiplier", p.getBankNoiseMultiplier());
    Map<String, Object> secagg = new LinkedHashMap<>();
    SecAggPlan a = plan.getSecureAggregation();
    secagg.put("enabled", a.getEnabled());
    secagg.put("threshold", a.getThreshold());
    secagg.put("neighbour_degree", a.getNeighbourDegree());
    secagg.put("modulus_bits", a.getModulusBits());
    secagg.put("clip_norm", a.getClipNorm());
    Map<String, Object> job = new LinkedHashMap<>();
    job.put("id", plan.getJobId());
    job.put("rounds", plan.getRounds());
    job.put("local_epochs", plan.getLocalEpochs());
    job.put("min_banks", plan.getMinBanks());
    job.put("expected_banks", expectedBanks);
    job.put("start_timeout_seconds", startTimeoutSeconds);
    job.put("stage_timeout_seconds", stageTimeoutSeconds);
    job.put("test_fraction", plan.getTestFraction());
    job.put("split_seed", plan.getSplitSeed());
    job.put("histogram_bins", plan.getHistogramBins());
    job.put("schema", schema);
    job.put("model", model);
    job.put("privacy", privacy);
    job.put("secure_aggregation", secagg);
    return job;
  }

  public static void write(Path file, Map<String, Object> content) throws IOException {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndent(2);
    Files.writeString(file, new Yaml(options).dump(content));
  }
}
