package io.consort.privacy.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON form of signed entries, shared by the export and by a bank's local JSON-lines copy. Mapping is
 * explicit (no reflection) so that field names are stable and a missing or mistyped field is reported
 * by name. Doubles are written by Jackson in shortest round-trip form, so reading them back gives the
 * same bits and the same canonical encoding.
 */
final class LedgerJson {

  static final ObjectMapper MAPPER = new ObjectMapper();

  private LedgerJson() {}

  static ObjectNode write(SignedLedgerEntry signed) {
    LedgerEntry e = signed.entry();
    ObjectNode node = MAPPER.createObjectNode();
    node.put("sequence", e.sequence());
    node.put("jobId", e.jobId());
    node.put("round", e.round());
    node.put("timestamp", e.timestamp().toString());
    ArrayNode banks = node.putArray("participatingBanks");
    e.participatingBanks().forEach(banks::add);
    node.put("delta", e.delta());
    node.put("accounting", e.accounting());
    ArrayNode mechanisms = node.putArray("mechanisms");
    for (MechanismRecord m : e.mechanisms()) {
      ObjectNode mn = mechanisms.addObject();
      mn.put("unit", m.unit().wireName());
      mn.put("bankId", m.bankId());
      mn.put("kind", m.kind().wireName());
      mn.put("noiseMultiplier", m.noiseMultiplier());
      mn.put("samplingRate", m.samplingRate());
      mn.put("steps", m.steps());
      mn.put("clipNorm", m.clipNorm());
      mn.put("noiseStddev", m.noiseStddev());
      mn.put("perBankSigma", m.perBankSigma());
      mn.put("survivors", m.survivors());
      mn.put("l2Sensitivity", m.l2Sensitivity());
      mn.put("l1Sensitivity", m.l1Sensitivity());
      mn.put("dimension", m.dimension());
    }
    ObjectNode spends = node.putObject("spends");
    for (Map.Entry<String, BankSpend> s : e.spends().entrySet()) {
      ObjectNode sn = spends.putObject(s.getKey());
      putOptional(sn, "recordEpsilonRound", s.getValue().recordEpsilonRound());
      putOptional(sn, "recordEpsilonTotal", s.getValue().recordEpsilonTotal());
      putOptional(sn, "bankEpsilonRound", s.getValue().bankEpsilonRound());
      putOptional(sn, "bankEpsilonTotal", s.getValue().bankEpsilonTotal());
    }
    node.put("modelChecksum", e.modelChecksum());
    node.put("previousHash", e.previousHash());
    node.put("entryHash", signed.entryHash());
    node.set("coordinatorSignature", writeSignature(signed.coordinatorSignature()));
    ArrayNode counters = node.putArray("countersignatures");
    signed.countersignatures().forEach(c -> counters.add(writeSignature(c)));
    return node;
  }

  static ObjectNode writeSignature(LedgerSignature s) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("signer", s.signerId());
    node.put("algorithm", s.algorithm());
    node.put("certificate", s.certificateFingerprint());
    node.put("signature", s.signatureBase64());
    return node;
  }

  /**
   * Parses one signed entry.
   *
   * @param where how to name this entry in errors, e.g. "entry at position 3"
   */
  static SignedLedgerEntry read(JsonNode node, String where) throws LedgerFormatException {
    try {
      object(node, where);
      List<String> banks = new ArrayList<>();
      for (JsonNode b : array(node, "participatingBanks", where)) {
        banks.add(textValue(b, where + " participatingBanks"));
      }
      List<MechanismRecord> mechanisms = new ArrayList<>();
      for (JsonNode m : array(node, "mechanisms", where)) {
        String mw = where + " mechanism";
        object(m, mw);
        mechanisms.add(new MechanismRecord(PrivacyUnit.fromWireName(text(m, "unit", mw)), text(m, "bankId", mw),
            MechanismKind.fromWireName(text(m, "kind", mw)), number(m, "noiseMultiplier", mw),
            number(m, "samplingRate", mw), integer(m, "steps", mw), number(m, "clipNorm", mw),
            number(m, "noiseStddev", mw), number(m, "perBankSigma", mw), Math.toIntExact(integer(m, "survivors", mw)),
            number(m, "l2Sensitivity", mw), number(m, "l1Sensitivity", mw), integer(m, "dimension", mw)));
      }
      TreeMap<String, BankSpend> spends = new TreeMap<>();
      JsonNode spendsNode = field(node, "spends", where);
      object(spendsNode, where + " spends");
      for (Iterator<Map.Entry<String, JsonNode>> it = spendsNode.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> s = it.next();
        String sw = where + " spend of " + s.getKey();
        object(s.getValue(), sw);
        spends.put(s.getKey(), new BankSpend(optional(s.getValue(), "recordEpsilonRound", sw),
            optional(s.getValue(), "recordEpsilonTotal", sw), optional(s.getValue(), "bankEpsilonRound", sw),
            optional(s.getValue(), "bankEpsilonTotal", sw)));
      }
      Instant timestamp;
      try {
        timestamp = Instant.parse(text(node, "timestamp", where));
      } catch (DateTimeParseException e) {
        throw new LedgerFormatException(where + ": timestamp must be ISO-8601, got " + node.get("timestamp"));
      }
      LedgerEntry entry = new LedgerEntry(integer(node, "sequence", where), text(node, "jobId", where),
          integer(node, "round", where), timestamp, banks, number(node, "delta", where),
          text(node, "accounting", where), mechanisms, spends, text(node, "modelChecksum", where),
          text(node, "previousHash", where));
      List<LedgerSignature> counters = new ArrayList<>();
      for (JsonNode c : array(node, "countersignatures", where)) {
        counters.add(readSignature(c, where + " countersignature"));
      }
      return new SignedLedgerEntry(entry, text(node, "entryHash", where),
          readSignature(field(node, "coordinatorSignature", where), where + " coordinator signature"), counters);
    } catch (IllegalArgumentException e) {
      throw new LedgerFormatException(where + ": " + e.getMessage(), e);
    }
  }

  static LedgerSignature readSignature(JsonNode node, String where) throws LedgerFormatException {
    object(node, where);
    byte[] signature;
    try {
      signature = Base64.getDecoder().decode(text(node, "signature", where));
    } catch (IllegalArgumentException e) {
      throw new LedgerFormatException(where + ": signature must be base64");
    }
    return new LedgerSignature(text(node, "signer", where), text(node, "algorithm", where),
        text(node, "certificate", where), signature);
  }

  private static void putOptional(ObjectNode node, String name, Double value) {
    if (value == null) {
      node.putNull(name);
    } else {
      node.put(name, value);
    }
  }

  static JsonNode field(JsonNode node, String name, String where) throws LedgerFormatException {
    JsonNode value = node.get(name);
    if (value == null) {
      throw new LedgerFormatException(where + ": missing field \"" + name + "\"");
    }
    return value;
  }

  static void object(JsonNode node, String where) throws LedgerFormatException {
    if (node == null || !node.isObject()) {
      throw new LedgerFormatException(where + ": must be a JSON object");
    }
  }

  static JsonNode array(JsonNode node, String name, String where) throws LedgerFormatException {
    JsonNode value = field(node, name, where);
    if (!value.isArray()) {
      throw new LedgerFormatException(where + ": \"" + name + "\" must be an array");
    }
    return value;
  }

  static String text(JsonNode node, String name, String where) throws LedgerFormatException {
    return textValue(field(node, name, where), where + " \"" + name + "\"");
  }

  private static String textValue(JsonNode value, String where) throws LedgerFormatException {
    if (!value.isTextual()) {
      throw new LedgerFormatException(where + ": must be a string, got " + value);
    }
    return value.asText();
  }

  static long integer(JsonNode node, String name, String where) throws LedgerFormatException {
    JsonNode value = field(node, name, where);
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw new LedgerFormatException(where + ": \"" + name + "\" must be an integer, got " + value);
    }
    return value.asLong();
  }

  static double number(JsonNode node, String name, String where) throws LedgerFormatException {
    JsonNode value = field(node, name, where);
    if (!value.isNumber()) {
      throw new LedgerFormatException(where + ": \"" + name + "\" must be a number, got " + value);
    }
    return value.asDouble();
  }

  private static Double optional(JsonNode node, String name, String where) throws LedgerFormatException {
    JsonNode value = field(node, name, where);
    if (value.isNull()) {
      return null;
    }
    return number(node, name, where);
  }
}
