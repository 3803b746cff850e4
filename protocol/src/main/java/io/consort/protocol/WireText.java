package io.consort.protocol;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.Map;

/**
 * Bounds on every string a message carries, checked by each receiver before it logs, stores or
 * echoes anything from the message: a received message is hostile until this passes.
 *
 * <p>Every string field of every message, however deeply nested, is checked: an identifier (a job
 * id, a member id, a hash, an algorithm name) is at most {@link #MAX_IDENTIFIER_CHARS} printable
 * ASCII characters without spaces; free text (a refusal's reason, an error message) is at most
 * {@link #MAX_TEXT_CHARS}; the coordinator-signed ledger entry a bank countersigns is at most
 * {@link #MAX_ENTRY_JSON_CHARS}; every other string (column names, categories) at most
 * {@link #MAX_NAME_CHARS}. No string may hold a control character (C0, DEL, C1), a line or
 * paragraph separator, or an invisible format character (bidirectional overrides, zero-width
 * characters): those forge or hide log lines. The refusal names the field and what is wrong with
 * it, never the value, so nothing unbounded or unprintable is echoed.
 */
public final class WireText {
  public static final int MAX_IDENTIFIER_CHARS = 128;
  public static final int MAX_NAME_CHARS = 1024;
  public static final int MAX_TEXT_CHARS = 4096;
  public static final int MAX_ENTRY_JSON_CHARS = 1 << 20;
  /** The longest excerpt of untrusted text that {@link #quote} puts into a log line or a status. */
  public static final int MAX_QUOTED_CHARS = 80;

  private enum Kind { IDENTIFIER, NAME, TEXT, ENTRY_JSON }

  /** Fields that are not {@link Kind#NAME}, by their full protobuf name. */
  private static final Map<String, Kind> KINDS = Map.ofEntries(
      Map.entry("consort.v1.Header.job_id", Kind.IDENTIFIER),
      Map.entry("consort.v1.JobPlan.job_id", Kind.IDENTIFIER),
      Map.entry("consort.v1.EnrolRequest.software_version", Kind.IDENTIFIER),
      Map.entry("consort.v1.EnrolResponse.member_id", Kind.IDENTIFIER),
      Map.entry("consort.v1.EnrolResponse.coordinator_id", Kind.IDENTIFIER),
      Map.entry("consort.v1.ModelSpec.engine", Kind.IDENTIFIER),
      Map.entry("consort.v1.ModelSpec.activation", Kind.IDENTIFIER),
      Map.entry("consort.v1.ModelParameters.sha256", Kind.IDENTIFIER),
      Map.entry("consort.v1.TrainTask.round_members", Kind.IDENTIFIER),
      Map.entry("consort.v1.PeerCertificate.bank_id", Kind.IDENTIFIER),
      Map.entry("consort.v1.CountersignRequest.entry_hash", Kind.IDENTIFIER),
      Map.entry("consort.v1.CountersignRequest.entry_json", Kind.ENTRY_JSON),
      Map.entry("consort.v1.Countersignature.entry_hash", Kind.IDENTIFIER),
      Map.entry("consort.v1.Countersignature.signer_id", Kind.IDENTIFIER),
      Map.entry("consort.v1.Countersignature.algorithm", Kind.IDENTIFIER),
      Map.entry("consort.v1.Countersignature.certificate_fingerprint", Kind.IDENTIFIER),
      Map.entry("consort.v1.JobDecision.reason", Kind.TEXT),
      Map.entry("consort.v1.Declined.reason", Kind.TEXT),
      Map.entry("consort.v1.ErrorReport.message", Kind.TEXT),
      Map.entry("consort.v1.JobFinished.reason", Kind.TEXT),
      Map.entry("consort.v1.Ack.message", Kind.TEXT));

  private WireText() {}

  /**
   * Checks every string field of {@code message} and of the messages inside it.
   *
   * @param what names the message in the refusal ("result", "task")
   * @throws ProtocolViolationException naming the field path (e.g. {@code result header.job_id})
   *     and the problem, without the value
   */
  public static void check(Message message, String what) {
    walk(message, what + " ", 0);
  }

  private static void walk(Message message, String path, int depth) {
    if (depth > 32) {
      throw new ProtocolViolationException(path + "is nested more than 32 levels deep");
    }
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      FieldDescriptor.JavaType type = field.getJavaType();
      if (type != FieldDescriptor.JavaType.STRING && type != FieldDescriptor.JavaType.MESSAGE) {
        continue; // numbers and bytes are bounded by the message size; skipping them boxes nothing
      }
      String name = path + field.getName();
      if (field.isRepeated()) {
        int n = message.getRepeatedFieldCount(field);
        for (int i = 0; i < n; i++) {
          Object value = message.getRepeatedField(field, i);
          visit(field, value, name + "[" + i + "]", depth);
        }
      } else if (field.getJavaType() == FieldDescriptor.JavaType.STRING || message.hasField(field)) {
        visit(field, message.getField(field), name, depth);
      }
    }
  }

  private static void visit(FieldDescriptor field, Object value, String name, int depth) {
    if (value instanceof Message m) {
      walk(m, name + ".", depth + 1);
    } else {
      checkString(KINDS.getOrDefault(field.getFullName(), Kind.NAME), (String) value, name);
    }
  }

  private static void checkString(Kind kind, String value, String name) {
    int max = switch (kind) {
      case IDENTIFIER -> MAX_IDENTIFIER_CHARS;
      case NAME -> MAX_NAME_CHARS;
      case TEXT -> MAX_TEXT_CHARS;
      case ENTRY_JSON -> MAX_ENTRY_JSON_CHARS;
    };
    if (value.length() > max) {
      throw new ProtocolViolationException(name + " has " + value.length() + " characters; at most " + max
          + " are allowed");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (kind == Kind.IDENTIFIER ? (c <= 0x20 || c >= 0x7f) : forbidden(c)) {
        throw new ProtocolViolationException(name + " holds " + describeChar(c) + " at position " + i
            + (kind == Kind.IDENTIFIER ? "; identifiers are printable ASCII without spaces"
                : "; control, separator and invisible format characters are not allowed"));
      }
    }
  }

  /** Characters that can forge, split or hide a log line. */
  static boolean forbidden(char c) {
    int type = Character.getType(c);
    return type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }

  private static String describeChar(char c) {
    return String.format("the character U+%04X", (int) c);
  }

  /**
   * Untrusted text made safe for one log line or a status message: at most
   * {@link #MAX_QUOTED_CHARS} characters, in single quotes, every character {@link #check} would
   * refuse written as {@code \}{@code uXXXX}, and the length noted when it was cut.
   */
  public static String quote(String untrusted) {
    if (untrusted == null) {
      return "(none)";
    }
    StringBuilder out = new StringBuilder("'");
    int n = Math.min(untrusted.length(), MAX_QUOTED_CHARS);
    for (int i = 0; i < n; i++) {
      char c = untrusted.charAt(i);
      if (forbidden(c) || c == '\\') {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('\'');
    if (untrusted.length() > n) {
      out.append("... (").append(untrusted.length()).append(" characters)");
    }
    return out.toString();
  }
}
