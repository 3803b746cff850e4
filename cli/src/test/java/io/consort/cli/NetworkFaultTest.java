package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.ServerLimits;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.privacy.ledger.VerificationResult;
import io.consort.protocol.v1.Stage;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults on the network and the banks' disks during a private job (secure aggregation and
 * record-level DP, three banks, two rounds), made by a TCP proxy between a bank and the
 * coordinator ({@link FaultyLink}) or at the bank's journal. Each ends with every round completed
 * or aborted cleanly and the job finished; the ledger verifies offline, records each bank in
 * exactly the rounds it took part in (nothing released twice, nothing charged for a release that
 * did not happen), and each bank's own journal has a release for every round the ledger charges it.
 */
@Tag("e2e")
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class NetworkFaultTest {
  /**
   * A dead or stalled link is noticed within about nine seconds, well inside the 20 s stage deadline
   * (not sooner: a loaded machine answers PINGs late, and a spurious miss would drop a live bank).
   */
  private static final ServerLimits QUICK_KEEPALIVE =
      ServerLimits.defaults().withKeepAlive(Duration.ofSeconds(5), Duration.ofSeconds(4));

  @TempDir
  Path dir;

  private static JobSpec plan(LocalConsortium consortium) throws Exception {
    return consortium.basePlan("faults", 2).secureAggregation(true).secureAggregationClipNorm(10)
        .privacy(PrivacyMode.RECORD).targetEpsilon(2.0).delta(1e-5).recordClipNorm(1.0).build();
  }

  @Test
  void aBankWhoseLinkDropsMidStage_andComesBack_theJobFinishes() throws Exception {
    // bank-3 has trained round 1 and is about to answer: its link drops, and comes back
    runWithLinkFault(FaultyLink::cut, FaultyLink::restore);
  }

  @Test
  void aBankWhoseLinkStallsWithTheConnectionOpen_isDroppedForTheRound_andTheJobFinishes() throws Exception {
    // the bank's connection stays open but carries nothing: only the coordinator's PINGs notice
    runWithLinkFault(FaultyLink::stall, FaultyLink::resume);
  }

  /**
   * Runs the job with bank-3's link broken by {@code fault} after the bank trained round 1, and healed
   * by {@code heal} once the coordinator has seen bank-3's session end.
   */
  private void runWithLinkFault(Consumer<FaultyLink> fault, Consumer<FaultyLink> heal) throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      consortium.limits = QUICK_KEEPALIVE;
      consortium.startCoordinator(plan(consortium), Duration.ofSeconds(20), new FederatedModelOps());
      FaultyLink link = consortium.throughFaultyLink("bank-3");
      AtomicBoolean injected = new AtomicBoolean();
      AtomicBoolean seen = new AtomicBoolean();
      consortium.afterTask("bank-3", task -> {
        if (task.getHeader().getStage() == Stage.TRAIN && task.getHeader().getRound() == 1
            && injected.compareAndSet(false, true)) {
          CompletableFuture<Void> gone = disconnectOf(consortium, "bank-3");
          fault.accept(link);
          gone.get(20, TimeUnit.SECONDS);
          seen.set(true);
          heal.accept(link);
        }
      });
      consortium.startBanks(b -> LocalConsortium.BankSettings.defaults());
      JsonObject result = Await.within(LocalConsortium.JOB_TIMEOUT, "the job to finish", consortium.service.jobOutcome());
      assertTrue(seen.get(), "the coordinator saw bank-3's connection go");
      checkReleases(consortium, result, 2);
    }
  }

  @Test
  void aCoordinatorThatStalls_isWaitedOut_andTheJobFinishes() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = plan(consortium);
      consortium.startCoordinator(plan, Duration.ofSeconds(20), new FederatedModelOps());
      List<FaultyLink> links = new ArrayList<>();
      for (String b : consortium.banks) {
        links.add(consortium.throughFaultyLink(b));
      }
      AtomicBoolean done = new AtomicBoolean();
      // the coordinator goes silent for three seconds as round 1 opens: every link stalls, then resumes
      consortium.afterTask("bank-1", task -> {
        if (task.getHeader().getStage() == Stage.TRAIN && task.getHeader().getRound() == 1 && done.compareAndSet(false, true)) {
          links.forEach(FaultyLink::stall);
          Thread.sleep(3_000); // the fault itself: how long the coordinator is silent
          links.forEach(FaultyLink::resume);
        }
      });
      consortium.startBanks(b -> LocalConsortium.BankSettings.defaults());
      JsonObject result = Await.within(LocalConsortium.JOB_TIMEOUT, "the job to finish", consortium.service.jobOutcome());
      assertTrue(done.get(), "the fault was injected");
      checkReleases(consortium, result, 2);
    }
  }

  @Test
  void aBankWhoseDiskIsFullWhenItMustJournalItsSpend_sendsNothing_andTheJobFinishes() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = plan(consortium);
      consortium.startCoordinator(plan, Duration.ofSeconds(20), new FederatedModelOps());
      Path journal = consortium.bankDir("bank-3").resolve("local").resolve("privacy-spend-journal.tsv");
      AtomicBoolean full = new AtomicBoolean();
      byte[][] saved = new byte[1][];
      // as round 1's training task arrives, bank-3's journal cannot be written (a directory stands
      // where the file was, so every write fails as on a full disk); it comes back with the next task
      consortium.beforeTask("bank-3", task -> {
        if (task.getHeader().getStage() == Stage.TRAIN && task.getHeader().getRound() == 1
            && full.compareAndSet(false, true)) {
          saved[0] = Files.readAllBytes(journal);
          Files.delete(journal);
          Files.createDirectory(journal);
        } else if (saved[0] != null && Files.isDirectory(journal)) {
          Files.delete(journal);
          Files.write(journal, saved[0]);
        }
      });
      consortium.startBanks(b -> LocalConsortium.BankSettings.defaults());
      JsonObject result = Await.within(LocalConsortium.JOB_TIMEOUT, "the job to finish", consortium.service.jobOutcome());
      assertTrue(full.get(), "the fault was injected");
      JsonObject round1 = result.getJsonArray("rounds").getJsonObject(0);
      assertFalse(round1.getJsonArray("participants").contains("bank-3"),
          "bank-3 sent an update it could not journal: " + round1.encode());
      Map<String, List<Integer>> journals = checkReleases(consortium, result, 2);
      assertFalse(journals.get("bank-3").contains(1), "bank-3's journal has round 1: " + journals);
    }
  }

  // ------------------------------------------------------------------ checks

  /**
   * Completes when the coordinator has seen {@code bank}'s session end. Plain Java futures: the hooks
   * that wait on it run on a bank's worker thread, where Vert.x's {@code Future.await} does not block.
   */
  private static CompletableFuture<Void> disconnectOf(LocalConsortium consortium, String bank) throws Exception {
    CompletableFuture<Void> gone = new CompletableFuture<>();
    consortium.service.onEventLoop(() -> consortium.service.members().onDisconnect(m -> {
      if (m.equals(bank)) {
        gone.complete(null);
      }
    })).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    return gone;
  }

  /**
   * The job finished with every round completed or aborted; the ledger verifies and charges each bank
   * exactly the completed rounds it took part in; each bank journaled every round it is charged for.
   *
   * @return each bank's journaled rounds
   */
  private Map<String, List<Integer>> checkReleases(LocalConsortium consortium, JsonObject result, int rounds)
      throws Exception {
    assertEquals(rounds, result.getJsonArray("rounds").size(), result.encodePrettily());
    Map<String, Integer> participations = new TreeMap<>();
    Map<String, List<Integer>> roundsOf = new TreeMap<>();
    for (Object o : result.getJsonArray("rounds")) {
      JsonObject r = (JsonObject) o;
      String status = r.getString("status");
      assertTrue(status.equals("completed") || status.equals("aborted"), r.encode());
      if (status.equals("completed")) {
        for (Object p : r.getJsonArray("participants")) {
          participations.merge((String) p, 1, Integer::sum);
          roundsOf.computeIfAbsent((String) p, k -> new ArrayList<>()).add(r.getInteger("round"));
        }
      }
    }
    Map<String, List<Integer>> journals = new TreeMap<>();
    for (String bank : consortium.banks) {
      Path journal = consortium.bankDir(bank).resolve("local").resolve("privacy-spend-journal.tsv");
      List<Integer> journaled = new ArrayList<>();
      for (String line : Files.readAllLines(journal)) {
        String[] f = line.split("\t");
        if (f.length > 2 && f[1].equals("faults")) {
          journaled.add(Integer.parseInt(f[2]));
        }
      }
      journals.put(bank, journaled);
      for (int round : roundsOf.getOrDefault(bank, List.of())) {
        assertTrue(journaled.contains(round), bank + " is charged for round " + round + " but never journaled it: "
            + journaled);
      }
    }

    VerificationResult verified = consortium.auditorsView(dir.resolve("ledger.json"));
    assertTrue(verified.valid(), verified.failure().orElse(""));
    for (String bank : consortium.banks) {
      int charged = verified.totals().containsKey(bank) ? (int) verified.totals().get(bank).releases() : 0;
      assertEquals(participations.getOrDefault(bank, 0), charged, bank + ": the ledger charges " + charged
          + " releases, the rounds show " + participations.getOrDefault(bank, 0));
    }
    return journals;
  }
}
