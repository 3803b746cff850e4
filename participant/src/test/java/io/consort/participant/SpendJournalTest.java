package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.protocol.v1.DpReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal reads back exactly what was written, so a restart never forgets a release. */
class SpendJournalTest {
  @TempDir
  Path dir;

  private static final DpReport RUN = DpReport.newBuilder().setNoiseMultiplier(1.1).setSamplingRate(32.0 / 270)
      .setSteps(9).setClipNorm(1.0).build();

  private static double epsilon(List<PrivacyEvent> events) {
    return RdpAccountant.defaults().epsilon(events, 1e-5);
  }

  @Test
  void theSameRoundSentTenTimes_isTenReleases_beforeAndAfterARestart() throws Exception {
    SpendJournal journal = new SpendJournal(dir);
    for (int i = 0; i < 10; i++) {
      journal.record("demo", 3, RUN); // a coordinator that asks for round 3 again and again
    }
    double before = epsilon(journal.events());
    SpendJournal restarted = new SpendJournal(dir);
    assertEquals(10, restarted.releases().size());
    assertEquals(before, epsilon(restarted.events()));
    assertEquals(1, restarted.roundsRun("demo"));
    SpendJournal once = new SpendJournal(dir.resolve("other"));
    once.record("demo", 3, RUN);
    assertTrue(before > epsilon(once.events()), "ten releases cost more than one");
  }

  @Test
  void jobIdsWithSeparatorsOrLineBreaks_cannotForgeOrHideAnEntry() throws Exception {
    SpendJournal journal = new SpendJournal(dir);
    String[] hostile = {"a\tb", "job\nv1\tfake\t1\t100\t0.001\t1\t1.0\tdeadbeef", "100%", "ünï/cødé", ""};
    for (String id : hostile) {
      journal.record(id, 1, RUN);
    }
    List<SpendJournal.Release> back = new SpendJournal(dir).releases();
    assertEquals(hostile.length, back.size());
    for (int i = 0; i < hostile.length; i++) {
      assertEquals(hostile[i], back.get(i).jobId());
      assertEquals(RUN, back.get(i).report());
    }
  }

  @Test
  void doublesAreReadBackBitForBit() throws Exception {
    DpReport odd = RUN.toBuilder().setNoiseMultiplier(Math.nextUp(1.0 / 3)).setSamplingRate(Double.MIN_NORMAL)
        .build();
    new SpendJournal(dir).record("j", 1, odd);
    assertEquals(odd, new SpendJournal(dir).run("j", 1));
  }

  @Test
  void aTornLastLine_isIgnored_butAnAlteredEarlierLineIsRefused() throws Exception {
    SpendJournal journal = new SpendJournal(dir);
    journal.record("j", 1, RUN);
    journal.record("j", 2, RUN);
    Path file = dir.resolve(SpendJournal.FILE_NAME);
    Files.writeString(file, "v1\tj\t3\t1.1\t0.1", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertEquals(2, new SpendJournal(dir).releases().size());

    List<String> lines = Files.readAllLines(file);
    Files.write(file, List.of(lines.get(0).replace("\t1.1\t", "\t9.9\t"), lines.get(1)));
    IOException e = assertThrows(IOException.class, () -> new SpendJournal(dir));
    assertTrue(e.getMessage().contains("line 1 is corrupt"), e.getMessage());
  }
}
