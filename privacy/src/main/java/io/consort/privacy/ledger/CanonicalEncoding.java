package io.consort.privacy.ledger;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;

/**
 * The canonical byte encoding of ledger entries and of what is signed. Deterministic: the same entry
 * always gives the same bytes, whatever the JSON whitespace or key order it was read from.
 *
 * <p>Primitives, all big-endian: {@code u8}; {@code u32}; {@code i64}; {@code f64} = IEEE 754 binary64
 * bits (a -0.0 is written as +0.0; NaN and infinities cannot occur, the records reject them);
 * {@code str} = u32 byte length then UTF-8 bytes; {@code opt-f64} = u8 0, or u8 1 then f64;
 * {@code list<T>} = u32 count then the items.
 *
 * <p>Entry: str "consort.ledger.entry.v1", i64 sequence, str jobId, i64 round, i64 timestamp epoch
 * milliseconds, list&lt;str&gt; participatingBanks (sorted), f64 delta, str accounting,
 * list&lt;mechanism&gt;, list&lt;spend&gt; (sorted by bank id), str modelChecksum (hex),
 * str previousHash (hex).
 * Mechanism: str unit, str bankId, str kind, f64 noiseMultiplier, f64 samplingRate, i64 steps,
 * f64 clipNorm, f64 noiseStddev, f64 perBankSigma, u32 survivors, f64 l2Sensitivity, f64 l1Sensitivity,
 * i64 dimension. Spend: str bankId then opt-f64 x4 (record round, record total, bank round, bank total).
 *
 * <p>Entry hash = SHA-256(previousHash as 32 raw bytes || entry bytes). Coordinator signs
 * str "consort.ledger.coordinator-signature.v1" || 32-byte entry hash. A bank countersigns
 * str "consort.ledger.countersignature.v1" || 32-byte entry hash || spend (its own, as above). The
 * export head is signed as str "consort.ledger.head.v1" || i64 entryCount || 32-byte last entry hash.
 */
public final class CanonicalEncoding {

  static final String ENTRY_DOMAIN = "consort.ledger.entry.v1";
  static final String COORDINATOR_DOMAIN = "consort.ledger.coordinator-signature.v1";
  static final String COUNTERSIGN_DOMAIN = "consort.ledger.countersignature.v1";
  static final String HEAD_DOMAIN = "consort.ledger.head.v1";

  private CanonicalEncoding() {}

  /** The bytes of {@code entry}. */
  public static byte[] entry(LedgerEntry entry) {
    return write(out -> {
      str(out, ENTRY_DOMAIN);
      out.writeLong(entry.sequence());
      str(out, entry.jobId());
      out.writeLong(entry.round());
      out.writeLong(entry.timestamp().toEpochMilli());
      out.writeInt(entry.participatingBanks().size());
      for (String bank : entry.participatingBanks()) {
        str(out, bank);
      }
      f64(out, entry.delta());
      str(out, entry.accounting());
      List<MechanismRecord> mechanisms = entry.mechanisms();
      out.writeInt(mechanisms.size());
      for (MechanismRecord m : mechanisms) {
        mechanism(out, m);
      }
      out.writeInt(entry.spends().size());
      for (Map.Entry<String, BankSpend> spend : entry.spends().entrySet()) {
        spend(out, spend.getKey(), spend.getValue());
      }
      str(out, entry.modelChecksum());
      str(out, entry.previousHash());
    });
  }

  /** What the coordinator signs for an entry. */
  public static byte[] coordinatorSigned(byte[] entryHash) {
    return write(out -> {
      str(out, COORDINATOR_DOMAIN);
      out.write(entryHash);
    });
  }

  /** What a bank countersigns: the entry hash and its own spend. */
  public static byte[] countersigned(byte[] entryHash, String bankId, BankSpend spend) {
    return write(out -> {
      str(out, COUNTERSIGN_DOMAIN);
      out.write(entryHash);
      spend(out, bankId, spend);
    });
  }

  /** What the coordinator signs for the head of an export. */
  public static byte[] head(long entryCount, byte[] lastEntryHash) {
    return write(out -> {
      str(out, HEAD_DOMAIN);
      out.writeLong(entryCount);
      out.write(lastEntryHash);
    });
  }

  static byte[] sha256(byte[]... parts) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (byte[] part : parts) {
        digest.update(part);
      }
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }

  private static void mechanism(DataOutputStream out, MechanismRecord m) throws IOException {
    str(out, m.unit().wireName());
    str(out, m.bankId());
    str(out, m.kind().wireName());
    f64(out, m.noiseMultiplier());
    f64(out, m.samplingRate());
    out.writeLong(m.steps());
    f64(out, m.clipNorm());
    f64(out, m.noiseStddev());
    f64(out, m.perBankSigma());
    out.writeInt(m.survivors());
    f64(out, m.l2Sensitivity());
    f64(out, m.l1Sensitivity());
    out.writeLong(m.dimension());
  }

  private static void spend(DataOutputStream out, String bankId, BankSpend spend) throws IOException {
    str(out, bankId);
    optF64(out, spend.recordEpsilonRound());
    optF64(out, spend.recordEpsilonTotal());
    optF64(out, spend.bankEpsilonRound());
    optF64(out, spend.bankEpsilonTotal());
  }

  private static void str(DataOutputStream out, String s) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static void f64(DataOutputStream out, double value) throws IOException {
    out.writeLong(Double.doubleToLongBits(value == 0.0 ? 0.0 : value));
  }

  private static void optF64(DataOutputStream out, Double value) throws IOException {
    if (value == null) {
      out.writeByte(0);
    } else {
      out.writeByte(1);
      f64(out, value);
    }
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory stream cannot fail", e);
    }
    return bytes.toByteArray();
  }
}
