package io.consort.privacy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.budget.BudgetGuard;
import io.consort.privacy.budget.PrivacyBudget;
import io.consort.privacy.accounting.LocalTrainingPlan;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;

class LocalLedgerStoreTest {

  @TempDir
  Path dir;

  @Test
  void bankCopy_feedsItsBudgetGuard_withTheSameEpsilonAsTheLedger() throws Exception {
    LedgerFixture fixture = new LedgerFixture().withRounds(3);
    LocalLedgerStore store = new LocalLedgerStore(dir, "bank-c");
    for (SignedLedgerEntry entry : fixture.ledger.entries()) {
      if (entry.entry().participatingBanks().contains("bank-c")) {
        store.append(entry);
      }
    }
    assertEquals(2, store.readAll().size());
    double recorded = store.readAll().get(1).entry().spends().get("bank-c").recordEpsilonTotal();
    double fromHistory = RdpAccountant.defaults().epsilon(store.recordLevelHistory("bank-c"), 1e-5);
    assertEquals(recorded, fromHistory, 1e-12);
    BudgetGuard guard = new BudgetGuard(new PrivacyBudget(recorded * 1.01, 1e-5));
    assertTrue(!guard.evaluate(store.recordLevelHistory("bank-c"), new LocalTrainingPlan(60_000, 256, 1, 1.1))
        .accepted());
    assertThrows(IllegalArgumentException.class, () -> store.append(fixture.ledger.entries().get(0)));
  }

  @Test
  void anAppendAfterATornLine_isRefusedRatherThanGluedToIt_andReopeningDropsTheTornLine() throws Exception {
    LedgerFixture fixture = new LedgerFixture().withRounds(2);
    LocalLedgerStore store = new LocalLedgerStore(dir, "bank-a");
    store.append(fixture.ledger.entries().get(0));
    String text = Files.readString(store.file());
    // what a write that failed part way (a full disk, a crash) leaves: half a line the store's memory never saw
    String torn = text + text.substring(0, text.length() / 3);
    Files.writeString(store.file(), torn);
    // an entry appended now would share the torn line, and be lost with it when the copy is next opened
    LedgerFormatException e = assertThrows(LedgerFormatException.class,
        () -> store.append(fixture.ledger.entries().get(1)));
    assertTrue(e.getMessage().contains("changed since it was read"), e.getMessage());
    assertEquals(1, store.entries().size());
    assertEquals(torn, Files.readString(store.file()), "nothing written");
    assertEquals(store.entries(), store.readAll(), "a torn last line is not an entry");

    // the torn line's entry was never countersigned (the line is forced before that): a restart drops it
    LocalLedgerStore reopened = new LocalLedgerStore(dir, "bank-a");
    assertEquals(store.entries(), reopened.entries());
    assertEquals(text, Files.readString(store.file()), "cut back to the last whole line");
    reopened.append(fixture.ledger.entries().get(1));
    assertEquals(fixture.ledger.entries(), new LocalLedgerStore(dir, "bank-a").entries());
  }

  @Test
  void aWholeLineThatDoesNotParse_isRefusedOnOpen_namingTheLine_andTheFileIsLeftAsItWas() throws Exception {
    LedgerFixture fixture = new LedgerFixture().withRounds(2);
    LocalLedgerStore store = new LocalLedgerStore(dir, "bank-a");
    store.append(fixture.ledger.entries().get(0));
    store.append(fixture.ledger.entries().get(1));
    String text = Files.readString(store.file());
    int firstBreak = text.indexOf('\n');
    // an edited line, line break intact: not a torn write
    String edited = text.substring(0, firstBreak / 2) + text.substring(firstBreak);
    Files.writeString(store.file(), edited);
    LedgerFormatException e = assertThrows(LedgerFormatException.class, () -> new LocalLedgerStore(dir, "bank-a"));
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    e = assertThrows(LedgerFormatException.class, store::readAll);
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    assertEquals(edited, Files.readString(store.file()), "a refused copy is not cut");
  }

  @Test
  void reopening_givesTheSameEntriesSpendsAndModels_asTheStoreThatWroteThem() throws Exception {
    LedgerFixture fixture = new LedgerFixture().withRounds(5);
    LocalLedgerStore store = new LocalLedgerStore(dir, "bank-c");
    for (SignedLedgerEntry entry : fixture.ledger.entries()) {
      if (entry.entry().participatingBanks().contains("bank-c")) {
        store.append(entry);
      }
    }
    List<MechanismRecord> next = fixture.ledger.entries().get(0).entry().mechanisms();
    LocalLedgerStore reopened = new LocalLedgerStore(dir, "bank-c");
    assertEquals(store.entries(), reopened.entries());
    assertEquals(3, reopened.entries().size());
    assertEquals(store.previewSpend(next, 1e-5), reopened.previewSpend(next, 1e-5));
    assertTrue(reopened.holdsModel("credit-1", String.format("%064x", 5)));
    assertFalse(reopened.holdsModel("credit-1", String.format("%064x", 4)), "bank-c was not in round 4");
    assertFalse(reopened.holdsModel("other-job", String.format("%064x", 5)));
  }

  @Test
  void aFailedAppend_leavesEntriesAndSpendsAsTheyWere() throws Exception {
    LedgerFixture fixture = new LedgerFixture().withRounds(2);
    LocalLedgerStore store = new LocalLedgerStore(dir, "bank-a");
    store.append(fixture.ledger.entries().get(0));
    List<MechanismRecord> next = fixture.ledger.entries().get(1).entry().mechanisms();
    BankSpend before = store.previewSpend(next, 1e-5);
    // the copy can no longer be written: a directory stands where the file was
    Files.delete(store.file());
    Files.createDirectory(store.file());
    assertThrows(java.io.IOException.class, () -> store.append(fixture.ledger.entries().get(1)));
    assertEquals(1, store.entries().size());
    assertEquals(before, store.previewSpend(next, 1e-5));
    assertFalse(store.holdsModel("credit-1", String.format("%064x", 2)));
  }

  @Test
  void report_listsEveryBank_andChartIsWellFormedSvg() throws Exception {
    LedgerFixture fixture = new LedgerFixture().withRounds(4);
    LedgerReport report = LedgerReport.of(fixture.ledger.entries());
    String text = report.toText();
    assertTrue(text.contains("bank bank-a: 4 releases"), text);
    assertTrue(text.contains("bank bank-c: 2 releases"), text);
    String svg = CumulativeEpsilonChart.svg(report, PrivacyUnit.RECORD);
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new InputSource(new StringReader(svg)));
    assertEquals("svg", doc.getDocumentElement().getNodeName());
    assertEquals(3, doc.getElementsByTagName("polyline").getLength());
    assertEquals(4.0, CumulativeEpsilonChart.niceCeiling(3.7) - 1.0, 1e-12);
  }
}
