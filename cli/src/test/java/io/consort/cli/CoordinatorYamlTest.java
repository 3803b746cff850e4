package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.model.data.DataSchema;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.spec.JobSpec;
import io.consort.spec.StrategySpec;
import io.consort.spec.PrivacyMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** {@code coordinator.yaml} and its {@code job:} section: known keys only, strict types, the spec's defaults. */
class CoordinatorYamlTest {
  private static final String SERVICE = """
      listen: {host: 127.0.0.1, port: 7443}
      tls: {key: key.pem, cert: cert.pem, ca: ca.pem}
      """;
  private static final String SCHEMA = "  schema: {label: y, positive: '1', numeric: [x]}\n";

  @TempDir
  Path dir;

  private ConfigFileFixture config;

  @BeforeEach
  void files() throws Exception {
    config = ConfigFileFixture.in(dir, "coordinator.yaml", ConfigFiles::coordinator);
  }

  private JobSpec spec(String jobLines) throws Exception {
    return ConfigFiles.coordinator(config.write(SERVICE + "job:\n  id: j\n" + SCHEMA + jobLines)).job().spec();
  }

  @Test
  void coordinatorConfig_keepsTheBuildersDefaults_whenJobKeysAreLeftOut() throws Exception {
    CoordinatorConfig c = ConfigFiles.coordinator(config.write(SERVICE + "job:\n  id: j\n" + SCHEMA));
    JobSpec defaults = JobSpec.builder().id("j").schema(new DataSchema(List.of("x"), List.of(), "y", "1")).build();
    assertEquals(defaults, c.job().spec());
    assertEquals(defaults.training().minBanks(), c.job().expectedBanks());
    assertEquals(Duration.ofSeconds(300), c.job().startTimeout());
    assertEquals(Duration.ofSeconds(120), c.job().stageTimeout());
    assertEquals(dir.resolve("coordinator-data"), c.dataDir());
    assertEquals(null, c.crlFile());
    assertEquals(-1, c.apiPort());
    assertEquals(Duration.ofSeconds(30), c.crlReloadInterval());
  }

  @Test
  void coordinatorConfig_readsTheDocumentedExample() throws Exception {
    Files.writeString(dir.resolve("crl.pem"), "r");
    CoordinatorConfig c = ConfigFiles.coordinator(config.write("""
        listen: {host: 0.0.0.0, port: 7443}
        tls: {key: key.pem, cert: cert.pem, ca: ca.pem, crl: crl.pem}
        data_dir: coordinator-data
        max_message_bytes: 67108864
        crl_reload_seconds: 30
        exit_when_done: false
        api: {port: 7444}
        job:
          id: loan-default-2026q4
          rounds: 10
          local_epochs: 1
          min_banks: 2
          expected_banks: 3
          start_timeout_seconds: 300
          stage_timeout_seconds: 120
          histogram_bins: 100
          schema: {label: class, positive: bad, numeric: [duration, credit_amount], categorical: [purpose]}
          model: {type: mlp, hidden: [64, 32], batch_size: 32, learning_rate: 0.003, seed: 7}
        """));
    assertEquals(dir.resolve("crl.pem"), c.crlFile());
    assertEquals(7444, c.apiPort());
    assertEquals(3, c.job().expectedBanks());
    assertEquals("loan-default-2026q4", c.job().spec().id());
    assertEquals(List.of(64, 32), c.job().spec().model().hiddenLayers());
    assertEquals(List.of(DataSchema.CategoricalColumn.open("purpose")), c.job().spec().schema().categoricalColumns());
  }

  @Test
  void jobSection_readsARegressionJob_andRefusesALabelThatDoesNotFitItsObjective() throws Exception {
    String job = SERVICE + "job:\n  id: j\n";
    JobSpec spec = ConfigFiles.coordinator(config.write(job + "  schema: {label: y, label_bound: 5, numeric: [x]}\n"
        + "  model: {objective: regression}\n")).job().spec();
    assertEquals(io.consort.model.train.Objective.REGRESSION, spec.model().objective());
    assertEquals(java.util.OptionalDouble.of(5), spec.schema().labelBound());
    assertEquals(spec, JobYaml.of(spec, 2, 300, 120).toSpec(dir.resolve("coordinator.yaml")), "the demo writes what it reads");
    String file = dir.resolve("coordinator.yaml") + ": ";
    assertEquals(file + "job.schema.label_bound is required with model.objective regression: the label 'y' must be "
        + "declared numeric with a positive bound (it clips the labels and scales the evaluation's secure sum), and "
        + "schema.positive left out", config.refusal(job + SCHEMA + "  model: {objective: regression}\n"));
    assertEquals(file + "job.schema.label_bound applies only with model.objective regression; a binary job's label 'y' "
        + "is a class named by schema.positive", config.refusal(job + "  schema: {label: y, label_bound: 5, numeric: [x]}\n"));
    assertTrue(config.refusal(job + "  schema: {label: y, positive: '1', label_bound: 5, numeric: [x]}\n")
        .contains("job.schema.positive and job.schema.label_bound exclude each other"));
    assertTrue(config.refusal(job + "  schema: {label: y, label_bound: -2, numeric: [x]}\n  model: {objective: "
        + "regression}\n").contains("label_bound) must be positive and finite, got -2.0"));
    assertTrue(config.refusal(job + SCHEMA + "  model: {objective: poisson}\n")
        .contains("job.model.objective: unknown objective 'poisson'"));
    assertTrue(config.refusal(job + "  schema: {label: y, label_bnd: 5, numeric: [x]}\n").contains("label_bnd"),
        "an unknown key is refused");
  }

  @Test
  void jobSection_readsACostMatrix_andRefusesAHalfOne() throws Exception {
    JobSpec spec = ConfigFiles.coordinator(config.write(SERVICE + "job:\n  id: j\n" + SCHEMA
        + "  cost_matrix: {false_negative: 5, false_positive: 1}\n")).job().spec();
    assertEquals(java.util.Optional.of(io.consort.spec.CostMatrix.GERMAN_CREDIT), spec.evaluation().costMatrix());
    assertEquals(dir.resolve("coordinator.yaml") + ": job.cost_matrix needs both false_negative (approving a bad "
        + "applicant) and false_positive (refusing a good one)",
        config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  cost_matrix: {false_negative: 5}\n"));
    assertEquals(dir.resolve("coordinator.yaml") + ": job.cost_matrix.false_positive must be finite and >= 0, got -1.0",
        config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  cost_matrix: {false_negative: 5, false_positive: -1}\n"));
  }

  @Test
  void jobSection_readsAServerStrategyWithItsDefaults_andRefusesWhatTheRuleDoesNotUse() throws Exception {
    JobSpec spec = ConfigFiles.coordinator(config.write(SERVICE + "job:\n  id: j\n" + SCHEMA
        + "  strategy: {name: fedyogi, server_learning_rate: 0.03}\n")).job().spec();
    assertEquals(new StrategySpec(StrategySpec.Name.FEDYOGI, 0.03, 0.9, 0.99, 1e-3), spec.training().strategy());
    assertEquals(dir.resolve("coordinator.yaml") + ": job.strategy.beta2 applies only to fedadam and fedyogi, not "
        + "fedavgm", config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  strategy: {name: fedavgm, beta2: 0.9}\n"));
    assertEquals(dir.resolve("coordinator.yaml") + ": job.strategy.name must be one of fedavg, fedavgm, fedadam, "
        + "fedyogi, fedadagrad, got 'fedprox'",
        config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  strategy: {name: fedprox}\n"));
    assertTrue(config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  strategy: {name: fedadam, momentum: 0.9}\n")
        .contains("momentum"));
  }

  @ParameterizedTest
  @EnumSource(StrategySpec.Name.class)
  void aWrittenJobSection_readsBackAsTheSameSpec_forEveryStrategy(StrategySpec.Name name) throws Exception {
    JobSpec spec = JobSpec.builder().id("j").schema(new DataSchema(List.of("x"), List.of(), "y", "1"))
        .strategy(StrategySpec.defaults(name)).build();
    Path file = dir.resolve("written.yaml");
    java.util.Map<String, Object> content = new java.util.LinkedHashMap<>(
        new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
            .readValue(SERVICE, java.util.Map.class));
    content.put("job", ConfigFiles.jobYaml(spec, 2, 300, 120));
    ConfigFiles.write(file, content);
    assertEquals(spec, ConfigFiles.coordinator(file).job().spec());
  }

  @Test
  void jobSection_acceptsCategoricalColumnsAsNamesOrMappings() throws Exception {
    JobSpec spec = ConfigFiles.coordinator(config.write(SERVICE + """
        job:
          id: j
          schema:
            label: y
            positive: '1'
            categorical: [region, {name: employment, values: [salaried, self-employed]}, {name: product}]
        """)).job().spec();
    assertEquals(List.of(DataSchema.CategoricalColumn.open("region"),
        new DataSchema.CategoricalColumn("employment", List.of("salaried", "self-employed")),
        DataSchema.CategoricalColumn.open("product")), spec.schema().categoricalColumns());
  }

  @Test
  void jobSection_refusesCategoricalItemOfAnotherKind_namingItsPosition() throws Exception {
    String file = dir.resolve("coordinator.yaml") + ": ";
    assertEquals(file + "job.schema.categorical[1] must be a column name or a mapping with name, values, missing, "
        + "fill, missing_indicator, sentinels and unseen, got a list", config.refusal(SERVICE + "job:\n  id: j\n  schema: {label: y, positive: '1', categorical: [a, [b]]}\n"));
    assertEquals(file + "job.schema.categorical[1].vaules is not a known key; did you mean "
        + "job.schema.categorical[1].values?",
        config.refusal(SERVICE + "job:\n  id: j\n  schema: {label: y, positive: '1', categorical: [a, {name: b, vaules: [c]}]}\n"));
    assertEquals(file + "job.schema.numeric must be a list, got 'x'",
        config.refusal(SERVICE + "job:\n  id: j\n  schema: {label: y, positive: '1', numeric: x}\n"));
    // a numeric column may be a mapping (with its preprocessing), but not a list
    assertEquals(file + "job.schema.numeric[1] must be a column name or a mapping with name, missing, fill, "
        + "missing_indicator, sentinels and clip, got a list",
        config.refusal(SERVICE + "job:\n  id: j\n  schema: {label: y, positive: '1', numeric: [x, [z]]}\n"));
  }

  @Test
  void jobSection_refusesMisspeltPrivacyKey_namingTheNearestKnownOne() throws Exception {
    assertEquals(dir.resolve("coordinator.yaml") + ": job.privacy.target_epsilom is not a known key; did you mean "
        + "job.privacy.target_epsilon?",
        config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  privacy: {unit: record, target_epsilom: 3}\n"));
  }

  @Test
  void coordinatorConfig_refusesMisspeltTopLevelKey() throws Exception {
    assertEquals(dir.resolve("coordinator.yaml") + ": lisen is not a known key; did you mean listen?",
        config.refusal("lisen: {port: 7443}\n"));
    assertEquals(dir.resolve("coordinator.yaml") + ": job.stage_timeout is not a known key; did you mean "
        + "job.stage_timeout_seconds?", config.refusal("job: {id: j, stage_timeout: 60}\n"));
  }

  @Test
  void jobSection_refusesWrongTypes_namingKeyAndValue() throws Exception {
    String file = dir.resolve("coordinator.yaml") + ": ";
    String job = SERVICE + "job:\n  id: j\n" + SCHEMA;
    assertEquals(file + "job.rounds must be an integer, got 'seven'", config.refusal(job + "  rounds: seven\n"));
    assertEquals(file + "job.rounds must be an integer, got '7.5'", config.refusal(job + "  rounds: 7.5\n"));
    assertEquals(file + "job.model.hidden[1] must be an integer, got '3.5'", config.refusal(job + "  model: {hidden: [64, 3.5]}\n"));
    assertEquals(file + "job.model.hidden must be a list, got '64'", config.refusal(job + "  model: {hidden: 64}\n"));
    assertEquals(file + "job.secure_aggregation.enabled must be true or false, got 'sometimes'",
        config.refusal(job + "  secure_aggregation: {enabled: sometimes}\n"));
    assertEquals(file + "job.model must be a mapping, got 'mlp'", config.refusal(job + "  model: mlp\n"));
  }

  @Test
  void jobSection_refusesUnknownModelType() throws Exception {
    assertEquals(dir.resolve("coordinator.yaml") + ": job.model.type must be one of mlp, logistic-regression, lstm, simple-rnn, cnn1d, attention, got "
        + "'transformer'", config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  model: {type: transformer}\n"));
  }

  @Test
  void jobSection_readsASequenceModelsKeys() throws Exception {
    JobSpec spec = ConfigFiles.coordinator(config.write(SERVICE + "job:\n  id: j\n"
        + "  schema: {label: y, positive: '1', numeric: [r0, r1, r2, v0, v1, v2]}\n"
        + "  model: {type: attention, window: 3, units: 8, heads: 4, hidden: [4], activation: tanh, dropout: 0.1}\n"))
        .job().spec();
    assertEquals(ModelType.ATTENTION, spec.model().type());
    assertEquals(new io.consort.model.train.SequenceSpec(3, 8, 0, 4), spec.model().sequence().orElseThrow());
    assertEquals(io.consort.model.train.HiddenActivation.TANH, spec.model().activation());
    assertEquals(TrainingEngine.NATIVE, spec.training().engine(), "the native engine trains every model");
  }

  @Test
  void jobSection_refusesAWindowThatDoesNotFitTheColumns_andAnUnknownActivation() throws Exception {
    assertEquals(dir.resolve("coordinator.yaml") + ": job.model.window must divide the 1 numeric columns into whole "
        + "channels of window values each (input width 1), got 2",
        config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  model: {type: lstm, window: 2}\n"));
    assertEquals(dir.resolve("coordinator.yaml") + ": job.model.activation: unknown activation 'gelu'; allowed: relu, "
        + "tanh, sigmoid", config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  model: {activation: gelu}\n"));
  }

  @Test
  void jobSection_acceptsModelTypeAliasAndEngine() throws Exception {
    JobSpec spec = spec("  model: {type: logreg, engine: native}\n");
    assertEquals(ModelType.LOGISTIC_REGRESSION, spec.model().type());
    assertEquals(TrainingEngine.NATIVE, spec.training().engine());
  }

  @Test
  void jobSection_runsTheConsistencyCheckUnlessTheJobTurnsItOff() throws Exception {
    assertTrue(spec("").secureAggregation().consistencyCheck());
    assertFalse(spec("  secure_aggregation: {consistency_check: false}\n").secureAggregation().consistencyCheck());
  }

  @Test
  void jobSection_unmasksAfterTheInputsUnlessTheJobSaysWithInput_andRefusesOtherValuesNamingTheKey() throws Exception {
    assertFalse(spec("").secureAggregation().unmaskingWithInput());
    assertTrue(spec("  secure_aggregation: {unmasking: with_input}\n").secureAggregation().unmaskingWithInput());
    assertFalse(spec("  secure_aggregation: {unmasking: after_inputs}\n").secureAggregation().unmaskingWithInput());
    String job = SERVICE + "job:\n  id: j\n" + SCHEMA;
    assertTrue(config.refusal(job + "  secure_aggregation: {unmasking: early}\n")
        .endsWith("job.secure_aggregation.unmasking must be after_inputs or with_input, got 'early'"));
    assertTrue(config.refusal(job + "  secure_aggregation: {unmasking: with_input, neighbour_degree: 2}\n")
        .contains("job.secure_aggregation.unmasking with_input needs the complete graph"));
  }

  @Test
  void jobSection_hasNoSelfMaskByDefaultWithInput_keepsItOtherwise_andRefusesBadValuesNamingTheKey() throws Exception {
    assertTrue(spec("").secureAggregation().selfMask());
    assertFalse(spec("  secure_aggregation: {unmasking: with_input}\n").secureAggregation().selfMask());
    assertTrue(spec("  secure_aggregation: {unmasking: with_input, self_mask: true}\n").secureAggregation()
        .selfMask());
    String job = SERVICE + "job:\n  id: j\n" + SCHEMA;
    assertTrue(config.refusal(job + "  secure_aggregation: {self_mask: false}\n")
        .contains("job.secure_aggregation.self_mask false needs unmasking: with_input"));
    assertTrue(config.refusal(job + "  secure_aggregation: {enabled: false, self_mask: false}\n")
        .contains("job.secure_aggregation.self_mask"));
    assertTrue(config.refusal(job + "  secure_aggregation: {unmasking: with_input, self_mask: maybe}\n")
        .contains("self_mask"));
  }

  @Test
  void jobSection_keysEachSumFreshUnlessTheJobSetsKeyRounds_andRefusesBadValuesNamingTheKey() throws Exception {
    assertEquals(1, spec("").secureAggregation().keyRounds());
    assertEquals(10, spec("  secure_aggregation: {unmasking: with_input, key_rounds: 10}\n").secureAggregation()
        .keyRounds());
    String job = SERVICE + "job:\n  id: j\n" + SCHEMA;
    assertTrue(config.refusal(job + "  secure_aggregation: {key_rounds: 10}\n")
        .contains("job.secure_aggregation.key_rounds 10 needs unmasking: with_input"));
    assertTrue(config.refusal(job + "  secure_aggregation: {unmasking: with_input, key_rounds: 0}\n")
        .contains("job.secure_aggregation.key_rounds must be at least 1"));
    assertTrue(config.refusal(job + "  secure_aggregation: {unmasking: with_input, key_rounds: 2.5}\n")
        .contains("key_rounds"));
  }

  @Test
  void jobSection_namesTheJobField_whenTheSpecificationIsInvalid() throws Exception {
    assertEquals(dir.resolve("coordinator.yaml") + ": job.privacy.target_epsilon applies only when privacy is on "
        + "(unit record, bank or both)",
        config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA + "  privacy: {unit: off, target_epsilon: 3}\n"));
    assertEquals(dir.resolve("coordinator.yaml") + ": job.schema is required", config.refusal(SERVICE + "job: {id: j}\n"));
    assertEquals(dir.resolve("coordinator.yaml") + ": job or api.port is required: a coordinator runs the job of its "
        + "configuration, or the jobs operators submit through its operator API (see docs/OPERATIONS.md)",
        config.refusal(SERVICE));
  }

  @Test
  void aStandingService_needsNoJob_andTakesItsDatabaseFromTheFile() throws Exception {
    java.nio.file.Files.writeString(dir.resolve("db-password"), "s3cret\n");
    Path file = dir.resolve("coordinator.yaml");
    java.nio.file.Files.writeString(file, SERVICE + "api: {port: 7444}\ndatabase: {url: 'jdbc:postgresql://db:5432/consort', "
        + "user: consort, password_file: db-password}\n");
    CoordinatorConfig c = ConfigFiles.coordinator(file);
    assertEquals(null, c.job());
    assertEquals("jdbc:postgresql://db:5432/consort", c.database().url());
    assertEquals("s3cret", c.database().password());
    assertTrue(!c.database().toString().contains("s3cret"), c.database().toString());
    assertEquals(dir.resolve("coordinator.yaml") + ": database.url must be a PostgreSQL JDBC URL (jdbc:postgresql://"
        + "host:port/database) or left out for the embedded database, got 'jdbc:h2:mem:x'",
        config.refusal(SERVICE + "api: {port: 7444}\ndatabase: {url: 'jdbc:h2:mem:x'}\n"));
    assertTrue(config.refusal(SERVICE + "api: {port: 7444}\ndatabase: {url: 'jdbc:postgresql://db/c', password: x}\n")
        .contains("password_file"));
  }

  @Test
  void jobYaml_readsBackToTheSameSpecification() throws Exception {
    JobSpec spec = JobSpec.builder().id("demo")
        .schema(new DataSchema(List.of("income"), List.of(DataSchema.CategoricalColumn.open("region"),
            new DataSchema.CategoricalColumn("employment", List.of("salaried", "unemployed"))), "default", "yes"))
        .modelType(ModelType.MLP).hiddenLayers(List.of(16, 8)).learningRate(0.02).privacy(PrivacyMode.BOTH)
        .targetEpsilon(2.0).delta(1e-6).recordClipNorm(0.5).bankNoiseMultiplier(1.1).threshold(2).rounds(4)
        .consistencyCheck(false).build();
    Map<String, Object> job = ConfigFiles.jobYaml(spec, 3, 60, 30);
    Path file = dir.resolve("coordinator.yaml");
    ConfigFiles.write(file, Map.of("tls", Map.of("key", "key.pem", "cert", "cert.pem", "ca", "ca.pem"), "job", job));
    CoordinatorConfig c = ConfigFiles.coordinator(file);
    assertEquals(spec, c.job().spec());
    assertEquals(3, c.job().expectedBanks());
    assertEquals(Duration.ofSeconds(30), c.job().stageTimeout());
  }

  @Test
  void jobSection_readsDistributedRecordNoiseAndFedProx_writesThemBack_andRefusesAnUnknownNoise() throws Exception {
    JobSpec spec = ConfigFiles.coordinator(config.write(SERVICE + "job:\n  id: j\n" + SCHEMA + "  min_banks: 3\n"
        + "  privacy: {unit: record, target_epsilon: 3, record_noise: distributed, colluding_banks: 2, "
        + "record_sampling_rate: 0.2}\n  strategy: {name: fedadam, proximal_mu: 0.01}\n")).job().spec();
    assertEquals(new io.consort.spec.PrivacySpec.DistributedNoise(2, 0.2),
        spec.privacy().distributedRecordNoise().orElseThrow());
    assertEquals(0.01, spec.training().proximalMu());
    Path file = dir.resolve("written.yaml");
    ConfigFiles.write(file, Map.of("tls", Map.of("key", "key.pem", "cert", "cert.pem", "ca", "ca.pem"), "job",
        ConfigFiles.jobYaml(spec, 3, 60, 30)));
    assertEquals(spec, ConfigFiles.coordinator(file).job().spec());
    assertEquals(dir.resolve("coordinator.yaml") + ": job.privacy.record_noise must be local or distributed, got "
        + "'shared'", config.refusal(SERVICE + "job:\n  id: j\n" + SCHEMA
        + "  privacy: {unit: record, target_epsilon: 3, record_noise: shared}\n"));
  }
}
