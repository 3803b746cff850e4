package io.consort.privacy.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The ledger export file: JSON with a format name and version (unknown ones are refused), the signers'
 * certificates (DER, base64, keyed by SHA-256 fingerprint), the signed entries, and a head (entry
 * count and last entry hash, optionally signed by the coordinator so that removing trailing entries is
 * detectable too).
 */
public final class LedgerExport {

  /** Value of the "format" field. */
  public static final String FORMAT = "consort-privacy-ledger";
  /** The only version this code reads and writes. */
  public static final int VERSION = 1;

  private LedgerExport() {}

  /**
   * Writes an export whose head is not signed (the chain still detects altered, removed or reordered
   * entries, except the removal of entries at the end).
   *
   * @param signerCerts certificates of every signer that appears, keyed by anything (e.g. signer id)
   */
  public static void write(List<SignedLedgerEntry> entries, Map<String, X509Certificate> signerCerts, Path file)
      throws IOException {
    write(entries, signerCerts.values(), null, file);
  }

  /** Writes an export whose head is signed with the coordinator's key. */
  public static void write(List<SignedLedgerEntry> entries, Collection<X509Certificate> signerCerts,
      PrivateKey coordinatorKey, X509Certificate coordinatorCert, Path file)
      throws IOException, GeneralSecurityException {
    String last = entries.isEmpty() ? LedgerEntry.GENESIS_HASH : entries.get(entries.size() - 1).entryHash();
    write(entries, signerCerts, LedgerSigning.signHead(entries.size(), last, coordinatorKey, coordinatorCert), file);
  }

  private static void write(List<SignedLedgerEntry> entries, Collection<X509Certificate> signerCerts,
      LedgerSignature headSignature, Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    ObjectNode root = LedgerJson.MAPPER.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    ObjectNode certs = root.putObject("certificates");
    TreeMap<String, String> sorted = new TreeMap<>();
    for (X509Certificate cert : signerCerts) {
      try {
        sorted.put(LedgerSigning.fingerprint(cert), Base64.getEncoder().encodeToString(cert.getEncoded()));
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new IOException("certificate of " + cert.getSubjectX500Principal() + " cannot be encoded", e);
      }
    }
    sorted.forEach(certs::put);
    ArrayNode array = root.putArray("entries");
    for (SignedLedgerEntry entry : entries) {
      array.add(LedgerJson.write(entry));
    }
    ObjectNode head = root.putObject("head");
    head.put("entryCount", entries.size());
    head.put("lastEntryHash", entries.isEmpty() ? LedgerEntry.GENESIS_HASH : entries.get(entries.size() - 1).entryHash());
    if (headSignature == null) {
      head.putNull("signature");
    } else {
      head.set("signature", LedgerJson.writeSignature(headSignature));
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      LedgerJson.MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * A parsed export.
   *
   * @param entries the signed entries as they appear in the file
   * @param certificates signer certificates keyed by fingerprint
   * @param headEntryCount the head's entry count
   * @param headLastEntryHash the head's last entry hash
   * @param headSignature the coordinator's head signature, or null if unsigned
   */
  public record Document(List<SignedLedgerEntry> entries, Map<String, X509Certificate> certificates,
      long headEntryCount, String headLastEntryHash, LedgerSignature headSignature) {}

  /**
   * Reads an export. Entries are parsed but not verified; see {@link LedgerVerifier}.
   *
   * @throws LedgerFormatException if the file is truncated, not JSON, not a ledger, of an unknown
   *     version, or an entry is malformed (the message names it)
   */
  public static Document read(Path file) throws IOException {
    JsonNode root = parseJson(Files.readAllBytes(file), file);
    if (!root.isObject() || !root.hasNonNull("format")) {
      throw new LedgerFormatException(file + " is not a Consort privacy ledger (no \"format\" field)");
    }
    if (!FORMAT.equals(root.get("format").asText())) {
      throw new LedgerFormatException(file + " is not a Consort privacy ledger (format must be " + FORMAT + ", got "
          + root.get("format") + ")");
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isInt() || version.asInt() != VERSION) {
      throw new LedgerFormatException(file + ": ledger version must be " + VERSION + ", got " + version
          + " (unknown versions are refused)");
    }
    Map<String, X509Certificate> certificates = new LinkedHashMap<>();
    JsonNode certs = LedgerJson.field(root, "certificates", "ledger");
    LedgerJson.object(certs, "ledger certificates");
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("X.509 is mandatory in every JDK", e);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = certs.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> c = it.next();
      try {
        X509Certificate cert = (X509Certificate) factory.generateCertificate(
            new ByteArrayInputStream(Base64.getDecoder().decode(c.getValue().asText())));
        if (!LedgerSigning.fingerprint(cert).equals(c.getKey())) {
          throw new LedgerFormatException("ledger certificate " + c.getKey() + " does not match its fingerprint");
        }
        certificates.put(c.getKey(), cert);
      } catch (CertificateException | IllegalArgumentException e) {
        throw new LedgerFormatException("ledger certificate " + c.getKey() + " is not a DER X.509 certificate", e);
      }
    }
    List<SignedLedgerEntry> entries = new ArrayList<>();
    int position = 0;
    for (JsonNode node : LedgerJson.array(root, "entries", "ledger")) {
      position++;
      JsonNode seq = node.get("sequence");
      entries.add(LedgerJson.read(node, "entry " + (seq == null ? "?" : seq.asText()) + " (position " + position + ")"));
    }
    JsonNode head = LedgerJson.field(root, "head", "ledger");
    LedgerJson.object(head, "ledger head");
    JsonNode headSig = LedgerJson.field(head, "signature", "ledger head");
    return new Document(entries, certificates, LedgerJson.integer(head, "entryCount", "ledger head"),
        LedgerJson.text(head, "lastEntryHash", "ledger head"),
        headSig.isNull() ? null : LedgerJson.readSignature(headSig, "ledger head signature"));
  }

  private static JsonNode parseJson(byte[] bytes, Path file) throws LedgerFormatException {
    try {
      JsonNode root = LedgerJson.MAPPER.readTree(bytes);
      if (root == null || root.isMissingNode()) {
        throw new LedgerFormatException(file + " is empty: not a Consort privacy ledger");
      }
      return root;
    } catch (JsonProcessingException e) {
      // Jackson reports input that stops inside a value as "end-of-input" (JsonEOFException or, between
      // object entries, a plain parse exception): for a ledger that means the file was cut short.
      if (e instanceof JsonEOFException || String.valueOf(e.getOriginalMessage()).contains("end-of-input")) {
        throw new LedgerFormatException(file + " is truncated (JSON ends early at byte " + bytes.length + ")", e);
      }
      throw new LedgerFormatException(file + " is not a Consort privacy ledger (not valid JSON: "
          + e.getOriginalMessage() + ")", e);
    } catch (IOException e) {
      throw new LedgerFormatException(file + " could not be parsed", e);
    }
  }
}
