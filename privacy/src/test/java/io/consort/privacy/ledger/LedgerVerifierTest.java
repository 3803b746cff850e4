package io.consort.privacy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerVerifierTest {

  private static LedgerFixture fixture;

  @TempDir
  Path dir;

  @BeforeAll
  static void buildLedger() throws Exception {
    fixture = new LedgerFixture().withRounds(4);
  }

  private Path export() throws Exception {
    Path file = dir.resolve("ledger.json");
    LedgerExport.write(fixture.ledger.entries(), fixture.signerCertificates(), file);
    return file;
  }

  private VerificationResult verify(Path file) {
    return LedgerVerifier.verify(file, fixture.pki.caCertificate());
  }

  private static ObjectNode readTree(Path file) throws Exception {
    return (ObjectNode) LedgerJson.MAPPER.readTree(file.toFile());
  }

  private static void writeTree(Path file, JsonNode root) throws Exception {
    LedgerJson.MAPPER.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
  }

  private interface Edit {
    void apply(ObjectNode root) throws Exception;
  }

  /** Exports the fixture ledger, applies {@code edit} to its JSON tree and verifies the result. */
  private VerificationResult verifyTampered(Edit edit) throws Exception {
    Path file = export();
    ObjectNode root = readTree(file);
    edit.apply(root);
    writeTree(file, root);
    return verify(file);
  }

  private static void assertFailsAt(VerificationResult result, long sequence, String fragment) {
    assertFalse(result.valid(), "should fail");
    String failure = result.failure().orElseThrow();
    assertEquals(sequence, result.failedSequence(), failure);
    assertTrue(failure.startsWith("entry " + sequence + " "), failure);
    assertTrue(failure.contains(fragment), failure);
  }

  @Test
  void verify_returnsPerBankTotals_whenLedgerIsIntact() throws Exception {
    VerificationResult result = verify(export());
    assertTrue(result.valid(), () -> result.failure().orElse(""));
    assertEquals(4, result.entryCount());
    assertEquals(List.of("bank-a", "bank-b", "bank-c"), List.copyOf(result.totals().keySet()));
    BankTotals a = result.totals().get("bank-a");
    assertEquals(4, a.releases());
    assertEquals(2, result.totals().get("bank-c").releases());
    SignedLedgerEntry last = fixture.ledger.entries().get(3);
    assertEquals(last.entry().spends().get("bank-a").recordEpsilonTotal(), a.recordEpsilon());
    assertNotNull(a.bankEpsilon());
    assertTrue(a.recordEpsilon() > 0 && a.bankEpsilon() > 0);
    assertFalse(result.headSigned());
  }

  @Test
  void verify_failsNamingEntry_whenOneNumberIsChanged() throws Exception {
    VerificationResult result = verifyTampered(root -> {
      ObjectNode spend = (ObjectNode) root.get("entries").get(1).get("spends").get("bank-a");
      spend.put("recordEpsilonTotal", spend.get("recordEpsilonTotal").asDouble() * 0.5);
    });
    assertFailsAt(result, 2, "altered");
  }

  @Test
  void verify_failsNamingEntry_whenRoundNumberIsChangedInText() throws Exception {
    Path file = export();
    String text = Files.readString(file);
    int third = nthIndexOf(text, "\"round\" : 3", 1);
    assertTrue(third > 0);
    Files.writeString(file, text.substring(0, third) + "\"round\" : 7" + text.substring(third + 11));
    assertFailsAt(verify(file), 3, "altered");
  }

  @Test
  void verify_failsNamingEntry_whenAnEntryIsDropped() throws Exception {
    VerificationResult result = verifyTampered(root -> {
      ((ArrayNode) root.get("entries")).remove(1);
    });
    assertFailsAt(result, 3, "removed or entries were reordered");
  }

  @Test
  void verify_failsNamingEntry_whenTwoEntriesAreSwapped() throws Exception {
    VerificationResult result = verifyTampered(root -> {
      ArrayNode entries = (ArrayNode) root.get("entries");
      JsonNode first = entries.get(1);
      entries.set(1, entries.get(2));
      entries.set(2, first);
    });
    assertFailsAt(result, 3, "reordered");
  }

  @Test
  void verify_failsNamingEntry_whenCountersignatureBytesAreAltered() throws Exception {
    VerificationResult result = verifyTampered(root -> {
      ObjectNode counter = (ObjectNode) root.get("entries").get(2).get("countersignatures").get(1);
      assertEquals("bank-b", counter.get("signer").asText());
      byte[] sig = Base64.getDecoder().decode(counter.get("signature").asText());
      sig[sig.length - 1] ^= 0x01;
      counter.put("signature", Base64.getEncoder().encodeToString(sig));
    });
    assertFailsAt(result, 3, "countersignature of bank bank-b: signature by bank-b is invalid");
  }

  @Test
  void verify_failsNamingEntry_whenCountersignatureIsForgedUnderAnotherCa() throws Exception {
    TestPki rogue = new TestPki("Rogue CA");
    TestPki.Identity fakeB = rogue.issue("bank-b", "participant");
    SignedLedgerEntry target = fixture.ledger.entries().get(1);
    LedgerSignature forged = LedgerSigning.countersign(target.entry(), fakeB.key(), fakeB.certificate());
    VerificationResult result = verifyTampered(root -> {
      ArrayNode counters = (ArrayNode) root.get("entries").get(1).get("countersignatures");
      counters.set(1, LedgerJson.writeSignature(forged));
      ((ObjectNode) root.get("certificates")).put(LedgerSigning.fingerprint(fakeB.certificate()),
          Base64.getEncoder().encodeToString(fakeB.certificate().getEncoded()));
    });
    assertFailsAt(result, 2, "does not chain to the consortium CA");
  }

  @Test
  void verify_failsNamingEntry_whenAParticipantDidNotCountersign() throws Exception {
    VerificationResult result = verifyTampered(root -> {
      ((ArrayNode) root.get("entries").get(0).get("countersignatures")).remove(2);
    });
    assertFailsAt(result, 1, "bank bank-c took part but did not countersign");
  }

  @Test
  void verify_failsNamingEntry_whenBankSignsAsCoordinator() throws Exception {
    SignedLedgerEntry first = fixture.ledger.entries().get(0);
    TestPki.Identity bankA = fixture.banks.get("bank-a");
    SignedLedgerEntry impostor = LedgerSigning.sign(first.entry(), bankA.key(), bankA.certificate());
    VerificationResult result = verifyTampered(root -> {
      ((ObjectNode) root.get("entries").get(0)).set("coordinatorSignature",
          LedgerJson.writeSignature(impostor.coordinatorSignature()));
    });
    assertFailsAt(result, 1, "has role participant, expected coordinator");
  }

  @Test
  void verify_refusesTruncatedFile() throws Exception {
    Path file = export();
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
    VerificationResult result = verify(file);
    assertFalse(result.valid());
    assertTrue(result.failure().orElseThrow().contains("is truncated"), result.failure().orElseThrow());
  }

  @Test
  void verify_refusesNonLedgerFiles() throws Exception {
    Path json = dir.resolve("other.json");
    Files.writeString(json, "{\"hello\": 1}");
    assertTrue(verify(json).failure().orElseThrow().contains("is not a Consort privacy ledger"));
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "round 1: bank-a epsilon 0.3\n", StandardCharsets.UTF_8);
    assertTrue(verify(text).failure().orElseThrow().contains("is not a Consort privacy ledger"));
  }

  @Test
  void verify_refusesUnknownVersion() throws Exception {
    VerificationResult result = verifyTampered(root -> {
      root.put("version", 2);
    });
    assertTrue(result.failure().orElseThrow().contains("ledger version must be 1, got 2"));
  }

  @Test
  void signedHead_detectsRemovalOfTrailingEntries() throws Exception {
    Path file = dir.resolve("signed.json");
    LedgerExport.write(fixture.ledger.entries(), fixture.signerCertificates().values(), fixture.coordinator.key(),
        fixture.coordinator.certificate(), file);
    VerificationResult ok = verify(file);
    assertTrue(ok.valid() && ok.headSigned(), () -> ok.failure().orElse(""));
    ObjectNode root = readTree(file);
    ((ArrayNode) root.get("entries")).remove(3);
    writeTree(file, root);
    assertTrue(verify(file).failure().orElseThrow().contains("entries were removed from the end"));
  }

  @Test
  void entry_roundTripsThroughJson_toTheSameHash() throws Exception {
    Path file = export();
    LedgerExport.Document document = LedgerExport.read(file);
    for (int i = 0; i < 4; i++) {
      SignedLedgerEntry original = fixture.ledger.entries().get(i);
      assertEquals(original.entry(), document.entries().get(i).entry());
      assertEquals(original.entryHash(), document.entries().get(i).entry().hash());
      assertTrue(Arrays.equals(original.entry().canonicalBytes(), document.entries().get(i).entry().canonicalBytes()));
    }
  }

  private static int nthIndexOf(String text, String needle, int n) {
    int index = -1;
    for (int i = 0; i < n; i++) {
      index = text.indexOf(needle, index + 1);
    }
    return index;
  }
}
