package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.TlsMaterial;
import io.consort.spec.PrivacyMode;
import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in a real browser: Debian's headless Chromium with an operator's certificate loads
 * the page from a running coordinator, watches a job submitted after the page loaded progress round
 * by round over the live event stream (no reload), and finds its charts, banks and verified ledger;
 * the screenshot is kept as {@code cli/target/dashboard.png}. A browser holding a bank's certificate
 * gets the refusal and nothing of the consortium.
 */
@Tag("e2e")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DashboardBrowserTest {
  private static final int ROUNDS = 3;

  @TempDir
  Path dir;

  private static Path home(Path dir, String name, TlsMaterial identity) throws Exception {
    Path home = Files.createDirectories(dir.resolve(name));
    HeadlessChromium.withClientCertificate(home, identity.caFile(), identity.chainFile(), identity.keyFile());
    return home;
  }

  @Test
  void anOperatorsBrowser_watchesAJobProgressLive_andABanksBrowserSeesNothing() throws Exception {
    HeadlessChromium.assumeAvailable();
    Path policy = null;
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      var spec = consortium.basePlan("live", ROUNDS).secureAggregation(true).secureAggregationClipNorm(10)
          .privacy(PrivacyMode.RECORD).targetEpsilon(2.0).delta(1e-5).recordClipNorm(1.0).build();
      consortium.startService();
      consortium.startBanks(bank -> LocalConsortium.BankSettings.defaults());
      String origin = consortium.apiUrl();
      policy = HeadlessChromium.autoSelectCertificate(origin);

      try (HeadlessChromium browser = new HeadlessChromium(home(dir, "operator", consortium.pki.operator()))) {
        assertNull(browser.navigate(origin + "/dashboard/"));
        assertEquals(true, browser.evaluate(waitFor("document.getElementById('connection').textContent === 'on'")));

        Path file = dir.resolve("live.yaml");
        ConfigFiles.write(file, ConfigFiles.jobYaml(spec, 3, 60, 30));
        CliRun submit = CliRun.of("job", "submit", "--api", origin, "--identity",
            LocalConsortium.identityDir(consortium.pki.operator()), file.toString());
        assertEquals(0, submit.status(), submit.err());

        try {
          browser.evaluate(waitFor("window.consortDashboard.stateShown('live') === 'completed' && "
              + "window.consortDashboard.roundsShown('live') === " + ROUNDS + " && "
              + "document.getElementById('ledger-state').textContent === 'verified' && "
              + "document.querySelector('#ledger-detail').textContent.startsWith('" + ROUNDS + " entries')"));
        } catch (IllegalStateException e) {
          throw new AssertionError("the page shows " + browser.evaluate("JSON.stringify({seen: window.consortDashboard"
              + ".seen, ledger: document.getElementById('ledger-state').textContent + ' ' + "
              + "document.getElementById('ledger-detail').textContent})"), e);
        }
        JsonArray seen = new JsonArray((String) browser.evaluate("JSON.stringify(window.consortDashboard.seen)"));
        assertTrue(seen.stream().map(s -> ((io.vertx.core.json.JsonObject) s).getInteger("rounds"))
            .anyMatch(r -> r > 0 && r < ROUNDS), "the page showed the job mid-way, live: " + seen.encode());
        assertEquals(ROUNDS, ((Number) browser.evaluate("document.querySelectorAll('#chart-auc circle').length"))
            .intValue());
        assertEquals(ROUNDS, ((Number) browser.evaluate("document.querySelectorAll('#chart-loss circle').length"))
            .intValue());
        assertEquals(3, ((Number) browser.evaluate(
            "document.querySelectorAll('#chart-epsilon polyline.cap').length")).intValue(), "a cap line per bank");
        assertEquals(3, ((Number) browser.evaluate("document.querySelectorAll('#banks tbody tr').length")).intValue());
        assertEquals("online", browser.evaluate("document.querySelector('#banks tbody tr .badge').textContent"));
        assertEquals(String.valueOf(ROUNDS), browser.evaluate(
            "document.querySelector('#banks tbody tr td:nth-child(3)').textContent"), "bank-1's last round");
        Path shot = Path.of("target", "dashboard.png");
        Files.createDirectories(shot.toAbsolutePath().getParent());
        Files.write(shot, browser.screenshot());
        assertTrue(Files.size(shot) > 10_000, "a screenshot of the page");
      }

      try (HeadlessChromium bank = new HeadlessChromium(home(dir, "bank", consortium.pki.bank("bank-1")))) {
        assertNull(bank.navigate(origin + "/dashboard/"), "the TLS handshake succeeds: the refusal is the API's");
        String body = (String) bank.evaluate(waitFor("document.body && document.body.innerText.length > 0")
            .replace("resolve(true)", "resolve(document.body.innerText)"));
        assertTrue(body.contains("\"error\"") && body.contains("participant"), body);
        assertFalse(body.contains("live") || body.contains("Jobs"), "nothing of the consortium: " + body);
        assertEquals(0, ((Number) bank.evaluate("document.querySelectorAll('#jobs').length")).intValue());
      }
    } finally {
      if (policy != null) {
        Files.deleteIfExists(policy);
      }
    }
  }

  /** A promise that resolves true once {@code condition} holds (checked every 100 ms, at most 120 s). */
  private static String waitFor(String condition) {
    return "new Promise((resolve, reject) => { const start = Date.now(); const check = () => { "
        + "try { if (" + condition + ") { resolve(true); return; } } catch (e) {} "
        + "if (Date.now() - start > 120000) { reject(new Error('waited in vain for: ' + "
        + io.vertx.core.json.Json.encode(condition) + ")); return; } setTimeout(check, 100); }; check(); })";
  }
}
