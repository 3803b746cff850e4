package io.consort.coordinator.job;

import io.consort.coordinator.store.CoordinatorStore;
import io.consort.privacy.ledger.LedgerEntry;
import io.consort.privacy.ledger.LedgerFormatException;
import io.consort.privacy.ledger.LedgerSignature;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyLedger;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.coordinator.store.StoreException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The coordinator's side of the privacy ledger: builds and signs the entry for each release,
 * attaches the banks' countersignatures and persists it, chained to the previous entry. The ledger
 * spans every job and survives restarts (it is rebuilt and re-checked from the database on start).
 * Blocking: call it from one ordered worker. Its methods hold the keeper's lock, so the dashboard's
 * {@link #export} may run on another thread and sees the ledger between two commits, never during one.
 */
public final class LedgerKeeper {
  private final CoordinatorStore store;
  private final PrivateKey key;
  private final X509Certificate certificate;
  private final PrivacyLedger ledger;
  /** Entries committed, readable from any thread without the lock (the dashboard's event loop). */
  private final java.util.concurrent.atomic.AtomicLong committed = new java.util.concurrent.atomic.AtomicLong();
  /** Fingerprints of the signer certificates already in the store (saved once, not every round). */
  private final Set<String> storedCertificates = new HashSet<>();

  public LedgerKeeper(CoordinatorStore store, PrivateKey key, X509Certificate certificate) {
    this.store = store;
    this.key = key;
    this.certificate = certificate;
    List<SignedLedgerEntry> stored = new ArrayList<>();
    for (CoordinatorStore.LedgerRow row : store.ledgerEntries()) {
      try {
        stored.add(SignedEntryJson.fromJson(row.entryJson(), "stored ledger entry " + row.sequence()));
      } catch (LedgerFormatException e) {
        throw new StoreException(e.getMessage(), e);
      }
    }
    try {
      this.ledger = PrivacyLedger.resume(stored);
    } catch (IllegalArgumentException e) {
      throw new StoreException("the stored privacy ledger does not chain: " + e.getMessage(), e);
    }
    committed.set(ledger.entries().size());
    remember(certificate);
  }

  /** How many entries the ledger holds; any thread, never waits for a commit in progress. */
  public long committedEntries() {
    return committed.get();
  }

  /** The next entry, signed by the coordinator, not yet appended. */
  public synchronized SignedLedgerEntry prepare(String jobId, int round, List<String> banks, double delta,
                                   List<MechanismRecord> mechanisms, String modelSha256) throws GeneralSecurityException {
    LedgerEntry entry = ledger.nextEntry(jobId, round, Instant.now(), banks, delta, mechanisms, modelSha256);
    return LedgerSigning.sign(entry, key, certificate);
  }

  /** Appends the entry with whatever countersignatures arrived, and stores it. */
  public synchronized SignedLedgerEntry commit(SignedLedgerEntry signed, List<LedgerSignature> countersignatures,
                                  List<X509Certificate> bankCertificates) {
    SignedLedgerEntry full = signed;
    for (LedgerSignature s : countersignatures) {
      full = full.withCountersignature(s);
    }
    for (X509Certificate c : bankCertificates) {
      remember(c);
    }
    LedgerEntry e = full.entry();
    // stored first: if the database refuses, the in-memory chain is unchanged and stays in step with it
    store.appendLedgerEntry(new CoordinatorStore.LedgerRow(e.sequence(), e.jobId(), (int) e.round(), full.entryHash(),
        SignedEntryJson.toJson(full)));
    ledger.append(full);
    committed.incrementAndGet();
    return full;
  }

  public synchronized List<SignedLedgerEntry> entries() {
    return ledger.entries();
  }

  /**
   * Writes the whole ledger for an auditor: every entry with its signatures, every signer's
   * certificate, and a head (entry count and last hash) signed by the coordinator, so that removing
   * entries from the end is detected too.
   */
  public synchronized void export(java.nio.file.Path file) throws java.io.IOException, GeneralSecurityException {
    List<X509Certificate> certificates = new ArrayList<>();
    java.security.cert.CertificateFactory factory = java.security.cert.CertificateFactory.getInstance("X.509");
    for (String pem : store.signerCertificatesPem()) {
      certificates.add((X509Certificate) factory.generateCertificate(
          new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
    }
    io.consort.privacy.ledger.LedgerExport.write(ledger.entries(), certificates, key, certificate, file);
  }

  /** Stores a signer's certificate (before the first entry it signs), once per keeper. */
  private void remember(X509Certificate c) {
    String fingerprint = LedgerSigning.fingerprint(c);
    if (storedCertificates.contains(fingerprint)) {
      return;
    }
    try {
      String pem = "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(c.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
      store.saveSignerCertificate(fingerprint, c.getSubjectX500Principal().getName(), pem);
      storedCertificates.add(fingerprint);
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("certificate of " + c.getSubjectX500Principal() + " cannot be encoded", e);
    }
  }
}
