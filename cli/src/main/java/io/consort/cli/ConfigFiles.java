package io.consort.cli;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.job.JobDefinition;
import io.consort.participant.ParticipantConfig;
import io.consort.model.data.DataSchema;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.protocol.WireLimits;
import io.consort.spec.InvalidJobSpecException;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.PrivacyMode;
import io.consort.spec.PrivacySpec;
import io.consort.spec.SecureAggregationSpec;
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
    JobSpec spec = jobSpec(job);
    int expected = job.integer("expected_banks", spec.training().minBanks());
    JobDefinition definition;
    try {
      definition = new JobDefinition(spec, expected,
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

  /** The job section as a validated specification; a key left out takes {@link JobSpecBuilder}'s default. */
  static JobSpec jobSpec(YamlConfig job) {
    YamlConfig schema = job.section("schema");
    List<String> numeric = new ArrayList<>();
    for (Object o : schema.list("numeric")) {
      numeric.add(String.valueOf(o));
    }
    List<DataSchema.CategoricalColumn> categorical = new ArrayList<>();
    for (Object o : schema.list("categorical")) {
      if (o instanceof String name) {
        categorical.add(DataSchema.CategoricalColumn.open(name));
      } else {
        YamlConfig c = schema.wrap("categorical", o);
        categorical.add(new DataSchema.CategoricalColumn(c.requiredString("name"),
            c.list("values").stream().map(String::valueOf).toList()));
      }
    }
    JobSpecBuilder b = JobSpec.builder().id(job.requiredString("id"));
    try {
      b.schema(new DataSchema(numeric, categorical, schema.requiredString("label"), schema.requiredString("positive")));
    } catch (IllegalArgumentException e) {
      throw new YamlConfig.ConfigException(job.file() + ": job.schema: " + e.getMessage());
    }
    YamlConfig model = job.section("model");
    String type = model.string("type", "mlp").toLowerCase(Locale.ROOT);
    b.modelType(switch (type) {
      case "mlp" -> ModelType.MLP;
      case "logistic-regression", "logreg" -> ModelType.LOGISTIC_REGRESSION;
      default -> throw new YamlConfig.ConfigException(job.file() + ": job.model.type must be mlp or "
          + "logistic-regression, got '" + type + "'");
    });
    if (model.has("hidden")) {
      b.hiddenLayers(model.list("hidden").stream().map(h -> h instanceof Integer i ? i : -1).toList());
    }
    b.batchSize(model.integer("batch_size", ModelSpec.DEFAULT_BATCH_SIZE))
        .learningRate(model.number("learning_rate", ModelSpec.DEFAULT_LEARNING_RATE))
        .modelSeed(model.longValue("seed", JobSpecBuilder.DEFAULT_MODEL_SEED)).l2(model.number("l2", 0));
    if (model.has("engine")) {
      try {
        b.engine(TrainingEngine.fromName(model.string("engine", null)));
      } catch (IllegalArgumentException e) {
        throw new YamlConfig.ConfigException(job.file() + ": job.model.engine: " + e.getMessage());
      }
    }
    YamlConfig privacy = job.section("privacy");
    try {
      b.privacy(PrivacyMode.fromName(privacy.string("unit", "off")));
    } catch (IllegalArgumentException e) {
      throw new YamlConfig.ConfigException(job.file() + ": job.privacy.unit " + e.getMessage());
    }
    b.delta(privacy.number("delta", JobSpecBuilder.DEFAULT_DELTA))
        .targetEpsilon(optionalNumber(privacy, "target_epsilon"))
        .recordClipNorm(optionalNumber(privacy, "record_clip_norm"))
        .recordNoiseMultiplier(optionalNumber(privacy, "record_noise_multiplier"))
        .bankNoiseMultiplier(optionalNumber(privacy, "bank_noise_multiplier"));
    YamlConfig secagg = job.section("secure_aggregation");
    b.secureAggregation(secagg.bool("enabled", true))
        .threshold(secagg.has("threshold") ? secagg.integer("threshold", 0) : null)
        .neighbourDegree(secagg.has("neighbour_degree") ? secagg.integer("neighbour_degree", 0) : null)
        .modulusBits(secagg.integer("modulus_bits", JobSpecBuilder.DEFAULT_MODULUS_BITS))
        .secureAggregationClipNorm(secagg.number("clip_norm", JobSpecBuilder.DEFAULT_SECURE_AGGREGATION_CLIP_NORM));
    b.rounds(job.integer("rounds", JobSpecBuilder.DEFAULT_ROUNDS))
        .localEpochs(job.integer("local_epochs", JobSpecBuilder.DEFAULT_LOCAL_EPOCHS))
        .minBanks(job.integer("min_banks", JobSpecBuilder.DEFAULT_MIN_BANKS))
        .testFraction(job.number("test_fraction", JobSpecBuilder.DEFAULT_TEST_FRACTION))
        .splitSeed(job.longValue("split_seed", JobSpecBuilder.DEFAULT_SPLIT_SEED))
        .histogramBins(job.integer("histogram_bins", JobSpecBuilder.DEFAULT_HISTOGRAM_BINS));
    try {
      return b.build();
    } catch (InvalidJobSpecException e) {
      throw new YamlConfig.ConfigException(job.file() + ": job." + e.getMessage());
    }
  }

  private static Double optionalNumber(YamlConfig section, String key) {
    return section.has(key) ? section.number(key, 0) : null;
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

  /** The job section of a coordinator config for {@code spec}: only the keys the job uses. */
  public static Map<String, Object> jobYaml(JobSpec spec, int expectedBanks, int startTimeoutSeconds,
                                            int stageTimeoutSeconds) {
    Map<String, Object> schema = new LinkedHashMap<>();
    schema.put("label", spec.schema().labelColumn());
    schema.put("positive", spec.schema().positiveClass());
    schema.put("numeric", new ArrayList<>(spec.schema().numericColumns()));
    List<Object> categorical = new ArrayList<>();
    for (DataSchema.CategoricalColumn c : spec.schema().categoricalColumns()) {
      Map<String, Object> col = new LinkedHashMap<>();
      col.put("name", c.name());
      if (c.isDeclared()) {
        col.put("values", new ArrayList<>(c.allowedCategories()));
      }
      categorical.add(col);
    }
    schema.put("categorical", categorical);
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", spec.model().type() == ModelType.MLP ? "mlp" : "logistic-regression");
    model.put("hidden", new ArrayList<>(spec.model().hiddenLayers()));
    model.put("batch_size", spec.model().batchSize());
    model.put("learning_rate", spec.model().learningRate());
    model.put("seed", spec.model().seed());
    model.put("l2", spec.model().l2());
    model.put("engine", spec.training().engine().wireName());
    Map<String, Object> privacy = new LinkedHashMap<>();
    PrivacySpec p = spec.privacy();
    privacy.put("unit", p.mode().wireName());
    privacy.put("delta", p.delta());
    p.targetEpsilon().ifPresent(eps -> privacy.put("target_epsilon", eps));
    p.record().ifPresent(r -> {
      privacy.put("record_clip_norm", r.clipNorm());
      r.noiseMultiplier().ifPresent(z -> privacy.put("record_noise_multiplier", z));
    });
    p.bank().ifPresent(k -> k.noiseMultiplier().ifPresent(z -> privacy.put("bank_noise_multiplier", z)));
    Map<String, Object> secagg = new LinkedHashMap<>();
    SecureAggregationSpec a = spec.secureAggregation();
    secagg.put("enabled", a.enabled());
    a.threshold().ifPresent(t -> secagg.put("threshold", t));
    a.neighbourDegree().ifPresent(k -> secagg.put("neighbour_degree", k));
    secagg.put("modulus_bits", a.modulusBits());
    secagg.put("clip_norm", a.clipNorm());
    Map<String, Object> job = new LinkedHashMap<>();
    job.put("id", spec.id());
    job.put("rounds", spec.training().rounds());
    job.put("local_epochs", spec.training().localEpochs());
    job.put("min_banks", spec.training().minBanks());
    job.put("expected_banks", expectedBanks);
    job.put("start_timeout_seconds", startTimeoutSeconds);
    job.put("stage_timeout_seconds", stageTimeoutSeconds);
    job.put("test_fraction", spec.evaluation().testFraction());
    job.put("split_seed", spec.evaluation().splitSeed());
    job.put("histogram_bins", spec.evaluation().histogramBins());
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
