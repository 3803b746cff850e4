package io.consort.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.TlsMaterial;
import io.consort.model.data.DataSchema;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The operator API's roles, each endpoint against each role: an operator may submit and cancel jobs
 * and read everything, an auditor may read the jobs, the ledger and the metrics and nothing else, a
 * bank's (participant's) certificate gets nothing. One coordinator serves every case; its configured
 * job waits for banks that never come, so nothing runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OperatorApiRolesTest {
  @TempDir
  static Path dir;

  private TestCoordinator coordinator;

  @BeforeAll
  void start() throws Exception {
    coordinator = new TestCoordinator(dir, List.of("bank-1", "bank-2"), 5, ServerLimits.defaults());
  }

  @AfterAll
  void stop() throws Exception {
    coordinator.close();
  }

  private static JsonObject submission(String jobId) {
    JobSpec spec = JobSpec.builder().id(jobId).rounds(1).minBanks(1)
        .schema(new DataSchema(List.of("x"), List.of(), "y", "1")).build();
    return new JsonObject().put("plan", Base64.getEncoder().encodeToString(JobSpecWire.toProto(spec).toByteArray()))
        .put("expected_banks", 5).put("start_timeout_seconds", 600).put("stage_timeout_seconds", 30);
  }

  private TestCoordinator.ApiAnswer call(TlsMaterial who, HttpMethod method, String path, JsonObject body)
      throws Exception {
    return coordinator.api(who, method, path, body == null ? null : body.toBuffer());
  }

  /** Endpoints an auditor may not use: every one answers 403 to an auditor, and not 403 to an operator. */
  static Stream<Arguments> operatorOnly() {
    return Stream.of(
        Arguments.of("POST /api/v1/jobs (submit)", HttpMethod.POST, "/api/v1/jobs", submission("by-auditor")),
        Arguments.of("POST /api/v1/jobs/ID/cancel", HttpMethod.POST, "/api/v1/jobs/job-1/cancel", null),
        Arguments.of("GET /api/v1/jobs/ID/model", HttpMethod.GET, "/api/v1/jobs/job-1/model", null),
        Arguments.of("GET /api/v1/jobs/ID/model?round=N", HttpMethod.GET, "/api/v1/jobs/job-1/model?round=1", null));
  }

  /** Endpoints both an operator and an auditor may read. */
  static Stream<Arguments> readable() {
    return Stream.of(
        Arguments.of("GET /api/v1/jobs", "/api/v1/jobs"),
        Arguments.of("GET /api/v1/jobs/ID", "/api/v1/jobs/job-1"),
        Arguments.of("GET /api/v1/job", "/api/v1/job"),
        Arguments.of("GET /api/v1/ledger", "/api/v1/ledger"),
        Arguments.of("GET /metrics", "/metrics"),
        Arguments.of("GET /health", "/health"),
        Arguments.of("GET /ready", "/ready"),
        Arguments.of("GET /dashboard/ (the page)", "/dashboard/index.html"),
        Arguments.of("GET /dashboard/app.js", "/dashboard/app.js"));
  }

  static Stream<Arguments> everyEndpoint() {
    return Stream.concat(operatorOnly(), readable().map(a -> Arguments.of(a.get()[0], HttpMethod.GET, a.get()[1],
        null)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operatorOnly")
  void auditor_isRefused(String name, HttpMethod method, String path, JsonObject body) throws Exception {
    TestCoordinator.ApiAnswer a = call(coordinator.pki.auditor(), method, path, body);
    assertEquals(403, a.status(), a.body());
    assertTrue(a.json().getString("error").contains("operator"), a.body());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("readable")
  void auditor_reads(String name, String path) throws Exception {
    TestCoordinator.ApiAnswer a = call(coordinator.pki.auditor(), HttpMethod.GET, path, null);
    assertEquals(200, a.status(), a.body());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("readable")
  void operator_reads(String name, String path) throws Exception {
    TestCoordinator.ApiAnswer a = call(coordinator.pki.operator(), HttpMethod.GET, path, null);
    assertEquals(200, a.status(), a.body());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyEndpoint")
  void participant_getsNothing(String name, HttpMethod method, String path, JsonObject body) throws Exception {
    TestCoordinator.ApiAnswer a = call(coordinator.pki.bank("bank-1"), method, path, body);
    assertEquals(403, a.status(), a.body());
    assertTrue(a.json().getString("error").contains("participant"), a.body());
    assertTrue(!a.body().contains("job-1") && !a.body().contains("consort_"), "nothing of the service leaks: " + a.body());
  }

  @Test
  void operator_submitsAndCancelsAQueuedJob_andReadsTheModelEndpoints() throws Exception {
    TlsMaterial operator = coordinator.pki.operator();
    TestCoordinator.ApiAnswer submitted = call(operator, HttpMethod.POST, "/api/v1/jobs", submission("queued-1"));
    assertEquals(201, submitted.status(), submitted.body());
    assertEquals("queued", submitted.json().getString("state"));
    TestCoordinator.ApiAnswer cancelled = call(operator, HttpMethod.POST, "/api/v1/jobs/queued-1/cancel", null);
    assertEquals(200, cancelled.status(), cancelled.body());
    assertEquals("cancelled", cancelled.json().getString("state"));
    assertEquals("cancelled by operator", cancelled.json().getString("reason"));
    // the configured job is waiting: it has no model yet, which the operator is told (not refused)
    TestCoordinator.ApiAnswer model = call(operator, HttpMethod.GET, "/api/v1/jobs/job-1/model", null);
    assertEquals(409, model.status(), model.body());
    TestCoordinator.ApiAnswer round = call(operator, HttpMethod.GET, "/api/v1/jobs/job-1/model?round=1", null);
    assertEquals(404, round.status(), round.body());
  }

  @Test
  void metrics_areThePrometheusTextFormat_withTheJobGauges() throws Exception {
    TestCoordinator.ApiAnswer a = call(coordinator.pki.auditor(), HttpMethod.GET, "/metrics", null);
    assertEquals(200, a.status());
    assertTrue(a.body().contains("# TYPE consort_jobs gauge"), a.body());
    assertTrue(a.body().contains("consort_jobs{state=\"waiting\"} 1.0")
        || a.body().contains("consort_jobs{state=\"running\"} 1.0"), a.body());
    assertNotEquals(-1, a.body().indexOf("consort_banks_connected"), a.body());
  }

  @Test
  void submission_isValidatedOnArrival_namingTheField() throws Exception {
    TlsMaterial operator = coordinator.pki.operator();
    JsonObject zeroRounds = submission("bad-rounds");
    io.consort.protocol.v1.JobPlan plan = io.consort.protocol.v1.JobPlan.parseFrom(
        Base64.getDecoder().decode(zeroRounds.getString("plan")));
    zeroRounds.put("plan", Base64.getEncoder().encodeToString(plan.toBuilder().setRounds(0).build().toByteArray()));
    TestCoordinator.ApiAnswer a = call(operator, HttpMethod.POST, "/api/v1/jobs", zeroRounds);
    assertEquals(400, a.status(), a.body());
    assertTrue(a.json().getString("error").startsWith("job.rounds"), a.body());

    a = call(operator, HttpMethod.POST, "/api/v1/jobs", submission("typo").put("stage_timeout_secs", 3));
    assertEquals(400, a.status(), a.body());
    assertTrue(a.json().getString("error").contains("'stage_timeout_secs'"), a.body());

    a = call(operator, HttpMethod.POST, "/api/v1/jobs", submission("too-few").put("expected_banks", 0));
    assertEquals(400, a.status(), a.body());
    assertTrue(a.json().getString("error").contains("expected_banks"), a.body());

    a = call(operator, HttpMethod.POST, "/api/v1/jobs", submission("garbage").put("plan", "bm90IGEgcGxhbg=="));
    assertEquals(400, a.status(), a.body());
    assertTrue(a.json().getString("error").startsWith("plan"), a.body());

    a = coordinator.api(operator, HttpMethod.POST, "/api/v1/jobs", Buffer.buffer("[1, 2"));
    assertEquals(400, a.status(), a.body());

    // a job id is never reused, not even the configured job's
    a = call(operator, HttpMethod.POST, "/api/v1/jobs", submission("job-1"));
    assertEquals(409, a.status(), a.body());
    assertTrue(call(operator, HttpMethod.GET, "/api/v1/jobs", null).json().getJsonArray("jobs").stream()
        .map(j -> ((JsonObject) j).getString("job_id")).noneMatch(id -> id.equals("bad-rounds") || id.equals("typo")),
        "nothing refused was queued");
  }
}
