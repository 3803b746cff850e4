package io.consort.privacy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.consort.identity.CertificateRejectedException;
import io.consort.identity.Role;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

  private static void assertFailsAt(VerificationResult result, long sequence, String... fragments) {
    assertFalse(result.valid(), "should fail");
    String failure = result.failure().orElseThrow();
    assertEquals(sequence, result.failedSequence(), failure);
    assertTrue(failure.startsWith("entry " + sequence + " "), failure);
    for (String fragment : fragments) {
      assertTrue(failure.contains(fragment), failure);
    }
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

  // Who may sign: signers are read as everywhere else in the consortium (role from the role
  // extension, never from the subject OU alone; only the key types and algorithm the consortium
  // fixes). Each attack forges a certificate with the fixture's real test CA key, or a signature
  // with the attacker's own code, and checks that signing refuses it and verification names the entry.

  /** Signs like an attacker's own code would: any key, any algorithm, no checks. */
  private static byte[] rawSignature(PrivateKey key, String algorithm, byte[] message) throws Exception {
    Signature signature = Signature.getInstance(algorithm);
    signature.initSign(key);
    signature.update(message);
    return signature.sign();
  }

  private static TestPki.Identity forgeBankB(String organizationalUnit, Role extensionRole, String keyType,
      String keyParameter) throws Exception {
    return fixture.pki.forge("bank-b", organizationalUnit, extensionRole, TestPki.keys(keyType, keyParameter));
  }

  private static LedgerEntry firstEntry() {
    return fixture.ledger.entries().get(0).entry();
  }

  /** Bank-b's countersignature on entry 1 as {@code forged} would make it with {@code algorithm}. */
  private static LedgerSignature countersignatureOfBankB(TestPki.Identity forged, String algorithm) throws Exception {
    LedgerEntry entry = firstEntry();
    byte[] message = CanonicalEncoding.countersigned(Hex.decode(entry.hash()), "bank-b", entry.spends().get("bank-b"));
    return new LedgerSignature("bank-b", algorithm, LedgerSigning.fingerprint(forged.certificate()),
        rawSignature(forged.key(), algorithm, message));
  }

  /** Verifies the export with {@code signature} (made under {@code signer}) in place of bank-b's on entry 1. */
  private VerificationResult verifyWithCountersignatureOfBankB(LedgerSignature signature, TestPki.Identity signer)
      throws Exception {
    return verifyTampered(root -> {
      ArrayNode counters = (ArrayNode) root.get("entries").get(0).get("countersignatures");
      assertEquals("bank-b", counters.get(1).get("signer").asText());
      counters.set(1, LedgerJson.writeSignature(signature));
      ((ObjectNode) root.get("certificates")).put(LedgerSigning.fingerprint(signer.certificate()),
          Base64.getEncoder().encodeToString(signer.certificate().getEncoded()));
    });
  }

  @Test
  void countersign_refusesCertificate_whenRoleExtensionIsMissingOrDisagreesWithOu() throws Exception {
    TestPki.Identity noExtension = forgeBankB("participant", null, "EC", "secp256r1");
    TestPki.Identity auditor = forgeBankB("participant", Role.AUDITOR, "EC", "secp256r1");

    CertificateRejectedException missing = assertThrows(CertificateRejectedException.class,
        () -> LedgerSigning.countersign(firstEntry(), noExtension.key(), noExtension.certificate()));
    CertificateRejectedException disagreeing = assertThrows(CertificateRejectedException.class,
        () -> LedgerSigning.countersign(firstEntry(), auditor.key(), auditor.certificate()));

    assertEquals(CertificateRejectedException.Reason.MISSING_ROLE, missing.reason(), missing.getMessage());
    assertEquals(CertificateRejectedException.Reason.MALFORMED, disagreeing.reason(), disagreeing.getMessage());
  }

  @Test
  void verify_failsNamingEntry_whenCountersignerHasParticipantOuButNoRoleExtension() throws Exception {
    TestPki.Identity noExtension = forgeBankB("participant", null, "EC", "secp256r1");

    VerificationResult result = verifyWithCountersignatureOfBankB(
        countersignatureOfBankB(noExtension, "SHA256withECDSA"), noExtension);

    assertFailsAt(result, 1, "countersignature of bank bank-b", "is not a consortium identity",
        "no Consort role extension");
  }

  @Test
  void verify_failsNamingEntry_whenCountersignerOuSaysParticipantButRoleExtensionSaysAuditor() throws Exception {
    TestPki.Identity auditor = forgeBankB("participant", Role.AUDITOR, "EC", "secp256r1");

    VerificationResult result = verifyWithCountersignatureOfBankB(countersignatureOfBankB(auditor, "SHA256withECDSA"),
        auditor);

    assertFailsAt(result, 1, "countersignature of bank bank-b",
        "subject OU 'participant' disagrees with the role extension 'auditor'");
  }

  @Test
  void verify_failsNamingEntry_whenParticipantSignsAsCoordinatorUnderCoordinatorOu() throws Exception {
    // the OU alone once made a ledger signer's role: a participant whose OU claims "coordinator"
    TestPki.Identity fake = fixture.pki.forge("coordinator", "coordinator", Role.PARTICIPANT,
        TestPki.keys("EC", "secp256r1"));
    SignedLedgerEntry first = fixture.ledger.entries().get(0);
    LedgerSignature impostor = new LedgerSignature("coordinator", "SHA256withECDSA",
        LedgerSigning.fingerprint(fake.certificate()), rawSignature(fake.key(), "SHA256withECDSA",
            CanonicalEncoding.coordinatorSigned(Hex.decode(first.entryHash()))));

    VerificationResult result = verifyTampered(root -> {
      ((ObjectNode) root.get("entries").get(0)).set("coordinatorSignature", LedgerJson.writeSignature(impostor));
      ((ObjectNode) root.get("certificates")).put(LedgerSigning.fingerprint(fake.certificate()),
          Base64.getEncoder().encodeToString(fake.certificate().getEncoded()));
    });

    assertFailsAt(result, 1, "coordinator signature",
        "subject OU 'coordinator' disagrees with the role extension 'participant'");
    assertThrows(CertificateRejectedException.class,
        () -> LedgerSigning.sign(first.entry(), fake.key(), fake.certificate()));
  }

  @Test
  void countersign_refusesKey_whenCurveIsNotP256() throws Exception {
    TestPki.Identity p384 = forgeBankB("participant", Role.PARTICIPANT, "EC", "secp384r1");

    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> LedgerSigning.countersign(firstEntry(), p384.key(), p384.certificate()));

    assertTrue(e.getMessage().contains("only P-256 is accepted"), e.getMessage());
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "EC, secp384r1, SHA256withECDSA, only P-256 is accepted",
      "RSA, 1024, SHA256withRSA, RSA key of 1024 bits is too weak"})
  void verify_failsNamingEntry_whenCountersignerCertificateHoldsKeyTheConsortiumRefuses(String keyType,
      String keyParameter, String algorithm, String reason) throws Exception {
    TestPki.Identity wrongKey = forgeBankB("participant", Role.PARTICIPANT, keyType, keyParameter);

    VerificationResult result = verifyWithCountersignatureOfBankB(countersignatureOfBankB(wrongKey, algorithm),
        wrongKey);

    assertFailsAt(result, 1, "countersignature of bank bank-b", reason);
  }

  @Test
  void verify_failsNamingEntry_whenCountersignatureUsesAnotherAlgorithmThanTheKeyFixes() throws Exception {
    TestPki.Identity bankB = fixture.banks.get("bank-b");

    VerificationResult result = verifyWithCountersignatureOfBankB(countersignatureOfBankB(bankB, "SHA1withECDSA"),
        bankB);

    assertFailsAt(result, 1,
        "signature by bank-b names algorithm SHA1withECDSA but its certificate's key requires SHA256withECDSA");
  }

  @Test
  void sign_refusesKey_whenItsTypeDiffersFromTheCertificateKey() throws Exception {
    PrivateKey rsa = TestPki.keys("RSA", "2048").getPrivate();

    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> LedgerSigning.sign(firstEntry(), rsa, fixture.coordinator.certificate()));

    assertTrue(e.getMessage().contains("certificate of coordinator (ec-p256)"), e.getMessage());
  }

  @Test
  void verify_failsNamingEntry_whenCountersignerIsCertifiedByImpostorCaWithTheSameName() throws Exception {
    TestPki.Identity fakeB = new TestPki("Consort Test Root CA").issue("bank-b", "participant");

    VerificationResult result = verifyWithCountersignatureOfBankB(countersignatureOfBankB(fakeB, "SHA256withECDSA"),
        fakeB);

    assertFailsAt(result, 1, "does not chain to the consortium CA", "another CA with the same name");
  }

  @Test
  void verifyCountersignature_isFalse_whenCertificateIsForgedOrNotAParticipant() throws Exception {
    TestPki.Identity bankB = fixture.banks.get("bank-b");
    TestPki.Identity noExtension = forgeBankB("participant", null, "EC", "secp256r1");
    TestPki.Identity auditorB = forgeBankB("auditor", Role.AUDITOR, "EC", "secp256r1");
    LedgerSignature genuine = LedgerSigning.countersign(firstEntry(), bankB.key(), bankB.certificate());

    assertTrue(LedgerSigning.verifyCountersignature(firstEntry(), genuine, bankB.certificate()));
    assertFalse(LedgerSigning.verifyCountersignature(firstEntry(),
        countersignatureOfBankB(noExtension, "SHA256withECDSA"), noExtension.certificate()));
    assertFalse(LedgerSigning.verifyCountersignature(firstEntry(),
        countersignatureOfBankB(auditorB, "SHA256withECDSA"), auditorB.certificate()));
  }

  /**
   * A ledger exported by the code before the shared identity module (commit 2b31f31: DemoPki
   * identities, {@code LedgerSigning}, {@code LedgerExport.write} with a signed head), kept as a
   * golden file: the export format and every signature in it must keep verifying.
   */
  @Test
  void verify_acceptsLedgerExportedBeforeTheIdentityModule() throws Exception {
    Path file = dir.resolve("ledger-v1.json");
    X509Certificate ca;
    try (InputStream ledger = getClass().getResourceAsStream("golden/ledger-v1.json");
        InputStream caPem = getClass().getResourceAsStream("golden/ca.crt.pem")) {
      Files.copy(ledger, file);
      ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(caPem);
    }

    VerificationResult result = LedgerVerifier.verify(file, ca);

    assertTrue(result.valid(), () -> result.failure().orElse(""));
    assertEquals(3, result.entryCount());
    assertTrue(result.headSigned());
    assertEquals(3, result.totals().get("bank-a").releases());
    assertEquals(2, result.totals().get("bank-c").releases());
    assertEquals(1.185173897016789, result.totals().get("bank-a").recordEpsilon(), 1e-12);
  }

  private static int nthIndexOf(String text, String needle, int n) {
    int index = -1;
    for (int i = 0; i < n; i++) {
      index = text.indexOf(needle, index + 1);
    }
    return index;
  }
}
