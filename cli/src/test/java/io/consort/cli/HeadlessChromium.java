package io.consort.cli;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's Chromium, headless, driven over the Chrome DevTools Protocol (a WebSocket; no Selenium):
 * a real browser with its own TLS stack and its own certificate store. The client certificate comes
 * from an NSS database in the browser's {@code HOME} ({@link #withClientCertificate}), selected without
 * a prompt by the {@code AutoSelectCertificateForUrls} policy, as an organisation would deploy it.
 */
final class HeadlessChromium implements AutoCloseable {
  static final Path POLICY_DIR = Path.of("/etc/chromium/policies/managed");
  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> calls = new ConcurrentHashMap<>();
  private String session;

  /** Skips the calling test, saying why, when Chromium or NSS's tools are missing or the policy cannot be set. */
  static void assumeAvailable() {
    for (String tool : List.of("/usr/bin/chromium", "/usr/bin/certutil", "/usr/bin/pk12util", "/usr/bin/openssl")) {
      Assumptions.assumeTrue(Files.isExecutable(Path.of(tool)), tool + " is missing, so the dashboard's browser test "
          + "is skipped; .ci/run installs chromium and libnss3-tools with apt-get");
    }
    Assumptions.assumeTrue(Files.isWritable(POLICY_DIR) || (!Files.exists(POLICY_DIR) && Files.isWritable(
        Path.of("/etc"))), POLICY_DIR + " is not writable (not root), so the browser cannot be told which client "
        + "certificate to use; the dashboard's browser test is skipped");
  }

  /**
   * Makes {@code home}/.pki/nssdb trust {@code ca} and, when {@code key} is given, hold the client
   * certificate {@code chain} with its key.
   */
  static void withClientCertificate(Path home, Path ca, Path chain, Path key) throws Exception {
    Path db = Files.createDirectories(home.resolve(".pki/nssdb"));
    run(List.of("certutil", "-d", "sql:" + db, "-N", "--empty-password"));
    run(List.of("certutil", "-d", "sql:" + db, "-A", "-n", "consortium-ca", "-t", "C,,", "-i", ca.toString()));
    if (key != null) {
      Path p12 = home.resolve("client.p12");
      run(List.of("openssl", "pkcs12", "-export", "-inkey", key.toString(), "-in", chain.toString(), "-out",
          p12.toString(), "-passout", "pass:browser", "-name", "client"));
      run(List.of("pk12util", "-i", p12.toString(), "-d", "sql:" + db, "-W", "browser"));
    }
  }

  /** Lets the browser pick its certificate for {@code origin} without asking; returns the policy file. */
  static Path autoSelectCertificate(String origin) throws IOException {
    Files.createDirectories(POLICY_DIR);
    Path policy = POLICY_DIR.resolve("consort-dashboard-test.json");
    JsonObject pattern = new JsonObject().put("pattern", origin).put("filter", new JsonObject());
    Files.writeString(policy, new JsonObject().put("AutoSelectCertificateForUrls",
        new io.vertx.core.json.JsonArray().add(pattern.encode())).encode());
    return policy;
  }

  private static void run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
  }

  HeadlessChromium(Path home) throws Exception {
    Path profile = Files.createDirectories(home.resolve("profile"));
    ProcessBuilder pb = new ProcessBuilder("/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--disable-dev-shm-usage", "--remote-debugging-port=0", "--user-data-dir=" + profile,
        "--window-size=1400,1200", "about:blank").redirectErrorStream(true);
    pb.environment().put("HOME", home.toString());
    process = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String url = null;
    StringBuilder seen = new StringBuilder();
    for (String line; url == null && (line = out.readLine()) != null; ) {
      seen.append(line).append('\n');
      Matcher m = DEVTOOLS.matcher(line);
      if (m.find()) {
        url = m.group(1);
      }
    }
    if (url == null) {
      throw new IllegalStateException("chromium did not open its DevTools endpoint:\n" + seen);
    }
    // keep draining its output so that it never blocks on a full pipe
    Thread drain = new Thread(() -> {
      try {
        out.transferTo(java.io.Writer.nullWriter());
      } catch (IOException e) {
        // the browser has gone
      }
    }, "chromium-output");
    drain.setDaemon(true);
    drain.start();
    socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(20))
        .buildAsync(URI.create(url), new Listener()).get(20, TimeUnit.SECONDS);
    String target = call("Target.createTarget", new JsonObject().put("url", "about:blank")).getString("targetId");
    session = call("Target.attachToTarget", new JsonObject().put("targetId", target).put("flatten", true))
        .getString("sessionId");
    call("Page.enable", new JsonObject());
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder message = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      message.append(data);
      if (last) {
        JsonObject m = new JsonObject(message.toString());
        message.setLength(0);
        Integer id = m.getInteger("id");
        if (id != null && calls.containsKey(id)) {
          CompletableFuture<JsonObject> call = calls.remove(id);
          if (m.containsKey("error")) {
            call.completeExceptionally(new IllegalStateException("DevTools: " + m.getJsonObject("error").encode()));
          } else {
            call.complete(m.getJsonObject("result", new JsonObject()));
          }
        }
      }
      webSocket.request(1);
      return null;
    }
  }

  /** One DevTools command in the page's session (or the browser's, before there is one). */
  JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> result = new CompletableFuture<>();
    calls.put(id, result);
    JsonObject message = new JsonObject().put("id", id).put("method", method).put("params", params);
    if (session != null) {
      message.put("sessionId", session);
    }
    socket.sendText(message.encode(), true).get(20, TimeUnit.SECONDS);
    return result.get(150, TimeUnit.SECONDS);
  }

  /** Navigates and returns the error Chromium reports for the load, or null when it loaded. */
  String navigate(String url) throws Exception {
    return call("Page.navigate", new JsonObject().put("url", url)).getString("errorText");
  }

  /** Evaluates {@code expression} in the page, awaiting it when it is a promise; its JSON value. */
  Object evaluate(String expression) throws Exception {
    JsonObject r = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("awaitPromise", true)
        .put("returnByValue", true));
    if (r.containsKey("exceptionDetails")) {
      throw new IllegalStateException("the page threw: " + r.getJsonObject("exceptionDetails").encode());
    }
    return r.getJsonObject("result").getValue("value");
  }

  /** A PNG of the page as it is shown now. */
  byte[] screenshot() throws Exception {
    String data = call("Page.captureScreenshot", new JsonObject().put("format", "png").put("captureBeyondViewport", true))
        .getString("data");
    return java.util.Base64.getDecoder().decode(data);
  }

  @Override
  public void close() throws Exception {
    try {
      socket.abort();
    } finally {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
