package io.consort.privacy.ledger;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Offline verification of an exported ledger against the consortium CA certificate. For each entry in
 * file order: sequence is its position (catches removed and reordered entries), previous hash links to
 * the entry before, the recomputed hash matches (catches any altered field), the coordinator's
 * signature and every participating bank's countersignature verify under certificates that the
 * consortium CA vouched for at the entry's time ({@link CertificateValidator#offlineAt}) and whose
 * identity ({@link PeerIdentity#fromCertificate}: name, and role from the role extension) matches the
 * signer and its role, and the recorded spends match a re-accounting of the mechanisms. Stops at the
 * first failure and names the entry.
 */
public final class LedgerVerifier {

  /** Recorded and recomputed epsilons may differ by floating-point noise across JVMs, never more. */
  private static final double SPEND_RELATIVE_TOLERANCE = 1e-9;

  private LedgerVerifier() {}

  /** Verifies the export at {@code file}; never throws for a bad ledger, only reports it. */
  public static VerificationResult verify(Path file, X509Certificate caCertificate) {
    Objects.requireNonNull(caCertificate, "caCertificate");
    LedgerExport.Document document;
    try {
      document = LedgerExport.read(file);
    } catch (LedgerFormatException e) {
      return VerificationResult.failed(0, null, e.getMessage());
    } catch (IOException e) {
      return VerificationResult.failed(0, null, file + " could not be read: " + e.getMessage());
    }
    return verify(document, caCertificate);
  }

  /** Verifies an already parsed export. */
  public static VerificationResult verify(LedgerExport.Document document, X509Certificate caCertificate) {
    List<SignedLedgerEntry> entries = document.entries();
    int count = entries.size();
    SpendCalculator calculator = new SpendCalculator();
    SortedMap<String, BankTotals> totals = new TreeMap<>();
    Map<String, Integer> releases = new HashMap<>();
    String previousHash = LedgerEntry.GENESIS_HASH;
    for (int position = 1; position <= count; position++) {
      SignedLedgerEntry signed = entries.get(position - 1);
      LedgerEntry entry = signed.entry();
      String name = "entry " + entry.sequence() + " (position " + position + ", job " + entry.jobId() + " round "
          + entry.round() + ")";
      String problem = checkEntry(signed, position, previousHash, document.certificates(), caCertificate);
      if (problem == null) {
        problem = checkSpends(entry, calculator);
      }
      if (problem != null) {
        return VerificationResult.failed(count, entry.sequence(), name + ": " + problem);
      }
      previousHash = signed.entryHash();
      for (String bank : entry.participatingBanks()) {
        int n = releases.merge(bank, 1, Integer::sum);
        BankSpend spend = entry.spends().get(bank);
        totals.put(bank, new BankTotals(bank, n, spend.recordEpsilonTotal(), spend.bankEpsilonTotal(), entry.delta()));
      }
    }
    if (document.headEntryCount() != count || !document.headLastEntryHash().equals(previousHash)) {
      return VerificationResult.failed(count, null, "ledger head names " + document.headEntryCount()
          + " entries ending in " + document.headLastEntryHash() + " but the file has " + count
          + " entries ending in " + previousHash + ": entries were removed from the end or the head was altered");
    }
    boolean headSigned = false;
    if (document.headSignature() != null) {
      Instant at = count == 0 ? Instant.now() : entries.get(count - 1).entry().timestamp();
      String problem = checkSignature(document.headSignature(), CanonicalEncoding.head(count,
          Hex.decode(previousHash)), Role.COORDINATOR, null, document.certificates(),
          caCertificate, at);
      if (problem != null) {
        return VerificationResult.failed(count, null, "ledger head: " + problem);
      }
      headSigned = true;
    }
    return VerificationResult.ok(count, totals, headSigned);
  }

  private static String checkEntry(SignedLedgerEntry signed, int position, String previousHash,
      Map<String, X509Certificate> certificates, X509Certificate ca) {
    LedgerEntry entry = signed.entry();
    if (entry.sequence() != position) {
      return "sequence " + entry.sequence() + " where " + position
          + " was expected: an entry was removed or entries were reordered";
    }
    if (!entry.previousHash().equals(previousHash)) {
      return "previous hash does not match the entry before it: the chain is broken";
    }
    String recomputed = entry.hash();
    if (!recomputed.equals(signed.entryHash())) {
      return "content does not match its recorded hash: the entry was altered";
    }
    if (!SpendCalculator.isKnown(entry.accounting())) {
      return "unknown accounting \"" + entry.accounting() + "\" (expected " + SpendCalculator.ACCOUNTING + " or "
          + SpendCalculator.ACCOUNTING_V1 + ")";
    }
    byte[] hash = Hex.decode(recomputed);
    String problem = checkSignature(signed.coordinatorSignature(), CanonicalEncoding.coordinatorSigned(hash),
        Role.COORDINATOR, null, certificates, ca, entry.timestamp());
    if (problem != null) {
      return "coordinator signature: " + problem;
    }
    Set<String> seen = new HashSet<>();
    for (LedgerSignature counter : signed.countersignatures()) {
      String bank = counter.signerId();
      if (!seen.add(bank)) {
        return "bank " + bank + " countersigned twice";
      }
      BankSpend spend = entry.spends().get(bank);
      if (spend == null) {
        return "countersignature by " + bank + ", which did not take part";
      }
      problem = checkSignature(counter, CanonicalEncoding.countersigned(hash, bank, spend),
          Role.PARTICIPANT, bank, certificates, ca, entry.timestamp());
      if (problem != null) {
        return "countersignature of bank " + bank + ": " + problem;
      }
    }
    for (String bank : entry.participatingBanks()) {
      if (!seen.contains(bank)) {
        return "bank " + bank + " took part but did not countersign its spend";
      }
    }
    return null;
  }

  private static String checkSpends(LedgerEntry entry, SpendCalculator calculator) {
    SortedMap<String, BankSpend> recomputed =
        calculator.apply(entry.accounting(), entry.participatingBanks(), entry.mechanisms(), entry.delta());
    for (String bank : entry.participatingBanks()) {
      BankSpend recorded = entry.spends().get(bank);
      BankSpend expected = recomputed.get(bank);
      for (PrivacyUnit unit : PrivacyUnit.values()) {
        for (boolean total : new boolean[] {false, true}) {
          if (!close(recorded.epsilon(unit, total), expected.epsilon(unit, total))) {
            return "recorded " + unit.wireName() + "-level epsilon " + (total ? "total" : "for the round")
                + " of bank " + bank + " is " + recorded.epsilon(unit, total) + " but the mechanisms give "
                + expected.epsilon(unit, total);
          }
        }
      }
    }
    return null;
  }

  private static boolean close(Double a, Double b) {
    if (a == null || b == null) {
      return a == null && b == null;
    }
    return Math.abs(a - b) <= SPEND_RELATIVE_TOLERANCE * Math.max(1.0, Math.abs(b));
  }

  private static String checkSignature(LedgerSignature signature, byte[] message, Role role, String expectedId,
      Map<String, X509Certificate> certificates, X509Certificate ca, Instant at) {
    X509Certificate cert = certificates.get(signature.certificateFingerprint());
    if (cert == null) {
      return "signer certificate " + signature.certificateFingerprint() + " is not in the file";
    }
    PeerIdentity signer;
    try {
      signer = CertificateValidator.offlineAt(ca, at).validate(cert, EnumSet.allOf(Role.class));
    } catch (CertificateRejectedException e) {
      return rejection(e, signature.signerId(), at);
    }
    if (!signer.name().equals(signature.signerId()) || (expectedId != null && !signer.name().equals(expectedId))) {
      return "certificate identity " + signer.name() + " does not match signer " + signature.signerId();
    }
    if (signer.role() != role) {
      return "certificate of " + signer.name() + " has role " + signer.role() + ", expected " + role;
    }
    try {
      return LedgerSigning.signatureProblem(message, signature, cert);
    } catch (GeneralSecurityException e) {
      return "signature by " + signer.name() + " cannot be checked (" + e.getMessage() + ")";
    }
  }

  private static String rejection(CertificateRejectedException e, String signerId, Instant at) {
    return switch (e.reason()) {
      case UNTRUSTED_ISSUER -> "certificate of " + signerId + " does not chain to the consortium CA at " + at
          + " (" + e.getMessage() + ")";
      case EXPIRED, NOT_YET_VALID -> "certificate of " + signerId + " was not valid at " + at + " (" + e.getMessage()
          + ")";
      default -> "certificate of " + signerId + " is not a consortium identity (" + e.getMessage() + ")";
    };
  }
}
