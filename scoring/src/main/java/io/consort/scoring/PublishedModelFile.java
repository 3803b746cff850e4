package io.consort.scoring;

import com.google.protobuf.InvalidProtocolBufferException;
import io.consort.scoring.v1.PublishedModelBody;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The published model file: one self-describing file per job, the same at the coordinator and at
 * every bank.
 *
 * <pre>
 *   offset  size  content
 *   0       8     magic "CNSRTMDL" (ASCII)
 *   8       4     format version, unsigned big-endian: {@value #FORMAT_VERSION}
 *   12      8     body length n, unsigned big-endian
 *   20      n     body: protobuf consort.scoring.v1.PublishedModelBody (schema, encoding,
 *                 preprocessing, parameters, calibration, decision rule, evaluation, provenance)
 *   20 + n  32    SHA-256 of bytes 0 .. 20 + n - 1
 * </pre>
 *
 * Reading checks, in order: the magic, the version (a version this code does not know is refused,
 * never guessed at), the length against the file's size (a truncated file or trailing bytes are
 * refused), the checksum (a flipped bit anywhere is refused as corrupt or altered), then the body:
 * it must parse, carry no field or enum value this version does not know, and describe one
 * consistent model ({@link PublishedModel#of}). The checksum detects corruption and tampering in
 * transit only together with a trusted copy of it (the model card, the job result); the parameters'
 * own SHA-256 is the one in the privacy ledger entry that released them.
 */
public final class PublishedModelFile {
  public static final int FORMAT_VERSION = 1;
  /** The extension of published model files. */
  public static final String EXTENSION = ".consort";
  static final byte[] MAGIC = "CNSRTMDL".getBytes(StandardCharsets.US_ASCII);
  static final int HEADER_BYTES = 20;
  static final int CHECKSUM_BYTES = 32;
  /** Far above any model a job can define, far below what would exhaust a bank's memory. */
  public static final long MAX_BODY_BYTES = 256L << 20;

  private PublishedModelFile() {}

  /** The file's bytes for {@code body}. */
  public static byte[] encode(PublishedModelBody body) {
    byte[] payload = body.toByteArray();
    ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + payload.length + CHECKSUM_BYTES);
    out.put(MAGIC).putInt(FORMAT_VERSION).putLong(payload.length).put(payload);
    out.put(sha256(out.array(), HEADER_BYTES + payload.length));
    return out.array();
  }

  /** Writes {@code model} atomically (a temporary file, then a rename); returns the file's SHA-256, hex. */
  public static String write(Path file, PublishedModel model) throws IOException {
    byte[] bytes = encode(model.body());
    Path absolute = file.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    Path tmp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return checksumOf(bytes);
  }

  /** Reads and checks a published model file. */
  public static PublishedModel read(Path file) throws ModelFileException {
    String source = file.toString();
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > HEADER_BYTES + MAX_BODY_BYTES + CHECKSUM_BYTES) {
        throw new ModelFileException(source, "is " + size + " bytes, more than any published model ("
            + (HEADER_BYTES + MAX_BODY_BYTES + CHECKSUM_BYTES) + ")");
      }
      bytes = Files.readAllBytes(file);
    } catch (ModelFileException e) {
      throw e;
    } catch (IOException e) {
      throw new ModelFileException(source, "cannot read the file: " + e, e);
    }
    return decode(bytes, source);
  }

  /** Checks and decodes a published model file's bytes; {@code source} names them in errors. */
  public static PublishedModel decode(byte[] bytes, String source) throws ModelFileException {
    if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new ModelFileException(source, "is not a Consort published model (it does not start with \"CNSRTMDL\")");
    }
    if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
      throw new ModelFileException(source, "is truncated: " + bytes.length + " bytes, shorter than an empty model's "
          + (HEADER_BYTES + CHECKSUM_BYTES));
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    long version = Integer.toUnsignedLong(in.getInt(MAGIC.length));
    if (version != FORMAT_VERSION) {
      throw new ModelFileException(source, "has format version " + version + "; this version of Consort reads format "
          + FORMAT_VERSION + " only (use the Consort release that wrote it, or republish the model)");
    }
    long length = in.getLong(MAGIC.length + 4);
    long expected = HEADER_BYTES + (length < 0 ? Long.MAX_VALUE / 2 : length) + CHECKSUM_BYTES;
    if (length < 0 || length > MAX_BODY_BYTES || expected != bytes.length) {
      throw new ModelFileException(source, "is truncated or has trailing bytes: its header announces a "
          + Long.toUnsignedString(length) + "-byte body, so " + (length < 0 || length > MAX_BODY_BYTES ? "more than"
          + " any published model" : expected + " bytes in all") + ", but the file has " + bytes.length);
    }
    int end = HEADER_BYTES + (int) length;
    byte[] computed = sha256(bytes, end);
    byte[] stored = Arrays.copyOfRange(bytes, end, bytes.length);
    if (!MessageDigest.isEqual(computed, stored)) {
      throw new ModelFileException(source, "checksum mismatch: the file is corrupt or was altered (stored SHA-256 "
          + HexFormat.of().formatHex(stored) + ", computed " + HexFormat.of().formatHex(computed) + ")");
    }
    PublishedModelBody body;
    try {
      body = PublishedModelBody.parseFrom(ByteBuffer.wrap(bytes, HEADER_BYTES, (int) length));
    } catch (InvalidProtocolBufferException e) {
      throw new ModelFileException(source, "the body is not a format-" + FORMAT_VERSION + " model: " + e.getMessage(),
          e);
    }
    try {
      return PublishedModel.of(body, HexFormat.of().formatHex(stored));
    } catch (IllegalArgumentException e) {
      throw new ModelFileException(source, "does not describe a usable model: " + e.getMessage(), e);
    }
  }

  /** The SHA-256 a file with these bytes carries (its last 32 bytes), hex. */
  static String checksumOf(byte[] fileBytes) {
    return HexFormat.of().formatHex(fileBytes, fileBytes.length - CHECKSUM_BYTES, fileBytes.length);
  }

  private static byte[] sha256(byte[] bytes, int length) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(bytes, 0, length);
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }
}
