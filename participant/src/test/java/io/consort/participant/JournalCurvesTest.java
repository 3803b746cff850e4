package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.ledger.BankNoiseShare;
import io.consort.privacy.ledger.RecordNoiseShare;
import io.consort.protocol.v1.DpReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journals' composed RDP curves, kept up to date write by write, are bit for bit the accountant's
 * composition of their events, before and after a restart, and a write that fails changes neither.
 */
class JournalCurvesTest {
  @TempDir
  Path dir;

  private static final RdpAccountant ACCOUNTANT = RdpAccountant.defaults();
  private static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5", "bank-6");

  @Test
  void noiseJournalCurves_equalFullComposition_bitForBit_asSharesAndSurvivorsArriveInAnyOrder() throws Exception {
    Random random = new Random(41); // seeded: the same sequence of writes every run
    NoiseShareJournal journal = new NoiseShareJournal(dir);
    for (int n = 0; n < 250; n++) {
      String job = "job-" + random.nextInt(2);
      int round = random.nextInt(40);
      int threshold = 2 + random.nextInt(3);
      switch (random.nextInt(3)) {
        case 0 -> journal.recordShare(job, round, new BankNoiseShare(new double[] {40, 80, 160}[random.nextInt(3)],
            threshold, 1.0, 256, 3681));
        case 1 -> journal.recordRecordShare(job, round, new RecordNoiseShare(new double[] {60, 120}[random.nextInt(2)],
            threshold, 1, 0.1, 1.0, 256, 3681));
        default -> journal.recordSurvivors(job, round, BANKS.subList(0, 1 + random.nextInt(BANKS.size())));
      }
      assertArrayEquals(ACCOUNTANT.rdp(journal.events()), journal.rdp(), "bank level after " + n + " writes");
      assertArrayEquals(ACCOUNTANT.rdp(journal.recordEvents()), journal.recordRdp(), "record level after " + n);
    }
    NoiseShareJournal restarted = new NoiseShareJournal(dir);
    assertEquals(journal.events(), restarted.events());
    assertEquals(journal.recordEvents(), restarted.recordEvents());
    assertArrayEquals(journal.rdp(), restarted.rdp());
    assertArrayEquals(journal.recordRdp(), restarted.recordRdp());
  }

  @Test
  void spendJournalCurve_equalsFullComposition_andAFailedWriteLeavesItUnchanged() throws Exception {
    Random random = new Random(43);
    SpendJournal journal = new SpendJournal(dir);
    for (int n = 0; n < 100; n++) {
      journal.record("job", n, DpReport.newBuilder().setNoiseMultiplier(new double[] {0.9, 1.1, 1.3}[random.nextInt(3)])
          .setSamplingRate(32.0 / (100 + random.nextInt(3))).setSteps(1 + random.nextInt(9)).setClipNorm(1.0).build());
      assertArrayEquals(ACCOUNTANT.rdp(journal.events()), journal.rdp(), "after " + n + " releases");
    }
    double[] before = journal.rdp();
    assertArrayEquals(before, new SpendJournal(dir).rdp(), "after a restart");
    // the journal can no longer be written: a directory stands where the file was
    Path file = dir.resolve(SpendJournal.FILE_NAME);
    Files.move(file, dir.resolve("moved"));
    Files.createDirectory(file);
    DpReport run = DpReport.newBuilder().setNoiseMultiplier(1.0).setSamplingRate(0.5).setSteps(1).setClipNorm(1.0)
        .build();
    assertThrows(IOException.class, () -> journal.record("job", 100, run));
    assertArrayEquals(before, journal.rdp());
    assertEquals(100, journal.releases().size());
  }
}
