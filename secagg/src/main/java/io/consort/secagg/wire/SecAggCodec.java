package io.consort.secagg.wire;

import io.consort.secagg.RoundParameters;
import io.consort.secagg.Stage;
import io.consort.secagg.crypto.ShamirSharing;
import io.consort.secagg.crypto.ShareCipher;
import io.consort.secagg.crypto.X25519KeyPair;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.ConsistencyRequest;
import io.consort.secagg.message.ConsistencySignature;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.RevealedShare;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.SurvivorSignature;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Compact binary encoding of every {@link SecAggMessage}, meant to travel as opaque {@code bytes}
 * inside the consortium's protobuf envelope.
 *
 * <pre>
 * message  = version:u8 (=1) type:u8 header body            (no trailing bytes)
 * header   = jobId:str round:u64 stage:u8 sender:str recipient:str
 * str      = length:u8 (1..128) UTF-8 bytes
 * blob16   = length:u16 bytes
 * type 1 advertise-keys     c_pk:32 s_pk:32 signature:blob16
 * type 2 key-roster         count:u16 { bank:str c_pk:32 s_pk:32 signature:blob16 }
 * type 3 share-keys         count:u16 { sender:str recipient:str ciphertext:blob16 }
 * type 4 forwarded-shares   (as type 3)
 * type 5 masked-input       ringBits:u8 (1..32) length:u32 values: length * ceil(k/8) bytes, little-endian
 * type 6 consistency-req    count:u16 { bank:str }
 * type 7 consistency-sig    signature:blob16
 * type 8 unmasking-request  count:u16 {bank:str} count:u16 {bank:str} count:u16 { bank:str signature:blob16 }
 * type 9 unmasking-response count:u16 { owner:str kind:u8 (1 = b, 2 = s^SK) value:blob16 (33 bytes) }
 * </pre>
 * Integers are big-endian except vector values. Each type belongs to exactly one stage and the header's
 * stage must match. Decoding refuses unknown versions and types, lengths outside their bounds, values
 * outside the ring, invalid UTF-8, truncation and trailing bytes, naming the field and offset.
 */
public final class SecAggCodec {
  public static final int VERSION = 1;
  public static final int MAX_SIGNATURE_BYTES = 512;
  public static final int MIN_CIPHERTEXT_BYTES = ShareCipher.NONCE_BYTES + ShareCipher.TAG_BYTES;
  public static final int MAX_CIPHERTEXT_BYTES = 1024;

  private static final int ADVERTISE_KEYS = 1;
  private static final int KEY_ROSTER = 2;
  private static final int SHARE_KEYS = 3;
  private static final int FORWARDED_SHARES = 4;
  private static final int MASKED_INPUT = 5;
  private static final int CONSISTENCY_REQUEST = 6;
  private static final int CONSISTENCY_SIGNATURE = 7;
  private static final int UNMASKING_REQUEST = 8;
  private static final int UNMASKING_RESPONSE = 9;

  private SecAggCodec() {
  }

  public static byte[] encode(SecAggMessage message) {
    Writer out = new Writer(message instanceof MaskedInput m ? maskedInputBytes(m) : 256);
    out.u8(VERSION);
    out.u8(typeOf(message));
    MessageHeader header = message.header();
    if (header.stage() != stageOf(typeOf(message))) {
      throw new IllegalArgumentException(message.getClass().getSimpleName() + " must carry stage "
          + stageOf(typeOf(message)) + ", header says " + header.stage());
    }
    out.str(header.jobId());
    out.u64(header.round());
    out.u8(header.stage().code());
    out.str(header.senderId());
    out.str(header.recipientId());
    if (message instanceof AdvertiseKeys m) {
      out.fixed(m.encryptionPublicKey(), X25519KeyPair.KEY_BYTES, "encryptionPublicKey");
      out.fixed(m.maskingPublicKey(), X25519KeyPair.KEY_BYTES, "maskingPublicKey");
      out.blob16(m.signature());
    } else if (message instanceof KeyRoster m) {
      out.count(m.entries().size());
      for (SignedPublicKeys entry : m.entries()) {
        out.str(entry.bankId());
        out.fixed(entry.encryptionPublicKey(), X25519KeyPair.KEY_BYTES, "encryptionPublicKey");
        out.fixed(entry.maskingPublicKey(), X25519KeyPair.KEY_BYTES, "maskingPublicKey");
        out.blob16(entry.signature());
      }
    } else if (message instanceof ShareKeys m) {
      writeShares(out, m.shares());
    } else if (message instanceof ForwardedShares m) {
      writeShares(out, m.shares());
    } else if (message instanceof MaskedInput m) {
      writeVector(out, m.ringBits(), m.values());
    } else if (message instanceof ConsistencyRequest m) {
      out.strings(m.survivors());
    } else if (message instanceof ConsistencySignature m) {
      out.blob16(m.signature());
    } else if (message instanceof UnmaskingRequest m) {
      out.strings(m.survivors());
      out.strings(m.dropped());
      out.count(m.signatures().size());
      for (SurvivorSignature signature : m.signatures()) {
        out.str(signature.bankId());
        out.blob16(signature.signature());
      }
    } else if (message instanceof UnmaskingResponse m) {
      out.count(m.shares().size());
      for (RevealedShare share : m.shares()) {
        out.str(share.ownerId());
        out.u8(share.kind().code());
        out.blob16(share.value());
      }
    }
    return out.toByteArray();
  }

  /**
   * The encoded size of a masked input, so its (up to 4 * 2^24-byte) buffer is allocated once at its
   * final size and returned without a copy.
   */
  private static int maskedInputBytes(MaskedInput m) {
    MessageHeader header = m.header();
    long bytes = 2 + idBytes(header.jobId()) + 8 + 1 + idBytes(header.senderId()) + idBytes(header.recipientId())
        + 1 + 4 + (long) m.values().length * ((Math.max(1, Math.min(32, m.ringBits())) + 7) / 8);
    return (int) Math.min(bytes, Integer.MAX_VALUE - 16);
  }

  private static int idBytes(String id) {
    return 1 + id.getBytes(StandardCharsets.UTF_8).length;
  }

  public static SecAggMessage decode(byte[] bytes) throws MalformedMessageException {
    Reader in = new Reader(bytes);
    int version = in.u8("version");
    if (version != VERSION) {
      throw new MalformedMessageException("unsupported version " + version + " at offset 0; this codec reads "
          + VERSION);
    }
    int type = in.u8("type");
    if (type < ADVERTISE_KEYS || type > UNMASKING_RESPONSE) {
      throw new MalformedMessageException("unknown message type " + type + " at offset 1");
    }
    MessageHeader header = readHeader(in, type);
    SecAggMessage message = switch (type) {
      case ADVERTISE_KEYS -> new AdvertiseKeys(header, in.fixed(X25519KeyPair.KEY_BYTES, "encryptionPublicKey"),
          in.fixed(X25519KeyPair.KEY_BYTES, "maskingPublicKey"), in.signature());
      case KEY_ROSTER -> {
        int count = in.count("entries");
        List<SignedPublicKeys> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          entries.add(new SignedPublicKeys(in.str("entries[" + i + "].bankId"),
              in.fixed(X25519KeyPair.KEY_BYTES, "entries[" + i + "].encryptionPublicKey"),
              in.fixed(X25519KeyPair.KEY_BYTES, "entries[" + i + "].maskingPublicKey"), in.signature()));
        }
        yield new KeyRoster(header, entries);
      }
      case SHARE_KEYS -> new ShareKeys(header, readShares(in));
      case FORWARDED_SHARES -> new ForwardedShares(header, readShares(in));
      case MASKED_INPUT -> readVector(in, header);
      case CONSISTENCY_REQUEST -> new ConsistencyRequest(header, in.strings("survivors"));
      case CONSISTENCY_SIGNATURE -> new ConsistencySignature(header, in.signature());
      case UNMASKING_REQUEST -> {
        List<String> survivors = in.strings("survivors");
        List<String> dropped = in.strings("dropped");
        int count = in.count("signatures");
        List<SurvivorSignature> signatures = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          signatures.add(new SurvivorSignature(in.str("signatures[" + i + "].bankId"), in.signature()));
        }
        yield new UnmaskingRequest(header, survivors, dropped, signatures);
      }
      case UNMASKING_RESPONSE -> {
        int count = in.count("shares");
        List<RevealedShare> shares = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          String owner = in.str("shares[" + i + "].ownerId");
          int kindCode = in.u8("shares[" + i + "].kind");
          if (kindCode != 1 && kindCode != 2) {
            throw new MalformedMessageException("shares[" + i + "].kind is " + kindCode + "; expected 1 or 2");
          }
          byte[] value = in.blob16("shares[" + i + "].value", ShamirSharing.SHARE_BYTES,
              ShamirSharing.SHARE_BYTES);
          shares.add(new RevealedShare(owner, ShareKind.fromCode(kindCode), value));
        }
        yield new UnmaskingResponse(header, shares);
      }
      default -> throw new AssertionError(type);
    };
    in.requireEnd();
    return message;
  }

  private static MessageHeader readHeader(Reader in, int type) throws MalformedMessageException {
    String jobId = in.str("jobId");
    long round = in.u64("round");
    if (round < 0) {
      throw new MalformedMessageException("round " + Long.toUnsignedString(round) + " is out of range");
    }
    int stageCode = in.u8("stage");
    if (stageCode != stageOf(type).code()) {
      throw new MalformedMessageException("message type " + type + " belongs to stage " + stageOf(type)
          + " but the header carries stage code " + stageCode);
    }
    return new MessageHeader(jobId, round, stageOf(type), in.str("senderId"), in.str("recipientId"));
  }

  /**
   * A masked input read in place: its header and ring, and its values as a little-endian view of the
   * bytes it came in ({@link #maskedInputInPlace}).
   */
  public record MaskedInputFrame(MessageHeader header, int ringBits, java.nio.IntBuffer values) {}

  /** More than the longest header a masked input can have, with its ring and length (3 ids of 255 bytes). */
  private static final int MASKED_INPUT_PREFIX_BYTES = 1024;

  /**
   * The masked input in {@code bytes} (from its position to its limit; the buffer is not moved), with its
   * values left where they are: what a coordinator adds to its running sum without copying 4 MB per bank.
   * Checked as {@link #decode} checks it, with the same messages. Empty when {@code bytes} is another
   * message, or a masked input in a ring narrower than 25 bits (values not in 4-byte words), or has no
   * version this codec reads: {@link #decode} reads (or refuses) those.
   */
  public static java.util.Optional<MaskedInputFrame> maskedInputInPlace(ByteBuffer bytes)
      throws MalformedMessageException {
    int start = bytes.position();
    int total = bytes.remaining();
    byte[] prefix = new byte[Math.min(total, MASKED_INPUT_PREFIX_BYTES)];
    bytes.get(start, prefix);
    if (prefix.length < 2 || (prefix[0] & 0xff) != VERSION || (prefix[1] & 0xff) != MASKED_INPUT) {
      return java.util.Optional.empty();
    }
    Reader in = new Reader(prefix);
    in.u8("version");
    in.u8("type");
    MessageHeader header = readHeader(in, MASKED_INPUT);
    int ringBits = ringBits(in);
    long length = vectorLength(in);
    if ((ringBits + 7) / 8 != Integer.BYTES) {
      return java.util.Optional.empty();
    }
    long remain = total - in.offset;
    if (length * Integer.BYTES > remain) {
      throw new MalformedMessageException("truncated: field values at offset " + in.offset + " needs "
          + length * Integer.BYTES + " bytes, only " + remain + " remain");
    }
    if (length * Integer.BYTES < remain) {
      throw new MalformedMessageException((remain - length * Integer.BYTES)
          + " trailing bytes after the message at offset " + (in.offset + length * Integer.BYTES));
    }
    java.nio.IntBuffer values = bytes.slice(start + in.offset, (int) length * Integer.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    return java.util.Optional.of(new MaskedInputFrame(header, ringBits, values));
  }

  /** The stage a message type belongs to. */
  private static Stage stageOf(int type) {
    return switch (type) {
      case ADVERTISE_KEYS -> Stage.ADVERTISE_KEYS;
      case KEY_ROSTER, SHARE_KEYS -> Stage.SHARE_KEYS;
      case FORWARDED_SHARES, MASKED_INPUT -> Stage.MASKED_INPUT;
      case CONSISTENCY_REQUEST, CONSISTENCY_SIGNATURE -> Stage.CONSISTENCY_CHECK;
      default -> Stage.UNMASKING;
    };
  }

  private static int typeOf(SecAggMessage message) {
    if (message instanceof AdvertiseKeys) {
      return ADVERTISE_KEYS;
    } else if (message instanceof KeyRoster) {
      return KEY_ROSTER;
    } else if (message instanceof ShareKeys) {
      return SHARE_KEYS;
    } else if (message instanceof ForwardedShares) {
      return FORWARDED_SHARES;
    } else if (message instanceof MaskedInput) {
      return MASKED_INPUT;
    } else if (message instanceof ConsistencyRequest) {
      return CONSISTENCY_REQUEST;
    } else if (message instanceof ConsistencySignature) {
      return CONSISTENCY_SIGNATURE;
    } else if (message instanceof UnmaskingRequest) {
      return UNMASKING_REQUEST;
    }
    return UNMASKING_RESPONSE;
  }

  private static void writeShares(Writer out, List<EncryptedShare> shares) {
    out.count(shares.size());
    for (EncryptedShare share : shares) {
      out.str(share.senderId());
      out.str(share.recipientId());
      if (share.ciphertext().length < MIN_CIPHERTEXT_BYTES || share.ciphertext().length > MAX_CIPHERTEXT_BYTES) {
        throw new IllegalArgumentException("ciphertext length " + share.ciphertext().length + " outside ["
            + MIN_CIPHERTEXT_BYTES + ", " + MAX_CIPHERTEXT_BYTES + "]");
      }
      out.blob16(share.ciphertext());
    }
  }

  private static List<EncryptedShare> readShares(Reader in) throws MalformedMessageException {
    int count = in.count("shares");
    List<EncryptedShare> shares = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      shares.add(new EncryptedShare(in.str("shares[" + i + "].senderId"), in.str("shares[" + i + "].recipientId"),
          in.blob16("shares[" + i + "].ciphertext", MIN_CIPHERTEXT_BYTES, MAX_CIPHERTEXT_BYTES)));
    }
    return shares;
  }

  private static void writeVector(Writer out, int ringBits, int[] values) {
    if (ringBits < 1 || ringBits > 32) {
      throw new IllegalArgumentException("ringBits must be in [1, 32], got " + ringBits);
    }
    if (values.length < 1 || values.length > RoundParameters.MAX_DIMENSION) {
      throw new IllegalArgumentException("vector length must be in [1, " + RoundParameters.MAX_DIMENSION
          + "], got " + values.length);
    }
    out.u8(ringBits);
    out.u32(values.length);
    int width = (ringBits + 7) / 8;
    if (width == 4) {
      out.ints(values);
      return;
    }
    long limit = 1L << ringBits;
    for (int i = 0; i < values.length; i++) {
      if (Integer.toUnsignedLong(values[i]) >= limit) {
        throw new IllegalArgumentException("values[" + i + "] = " + Integer.toUnsignedLong(values[i])
            + " is outside the ring Z_2^" + ringBits);
      }
      for (int b = 0; b < width; b++) {
        out.u8(values[i] >>> (8 * b));
      }
    }
  }

  private static int ringBits(Reader in) throws MalformedMessageException {
    int ringBits = in.u8("ringBits");
    if (ringBits < 1 || ringBits > 32) {
      throw new MalformedMessageException("ringBits is " + ringBits + "; expected 1 to 32");
    }
    return ringBits;
  }

  private static long vectorLength(Reader in) throws MalformedMessageException {
    long length = in.u32("length");
    if (length < 1 || length > RoundParameters.MAX_DIMENSION) {
      throw new MalformedMessageException("vector length " + length + " outside [1, "
          + RoundParameters.MAX_DIMENSION + "]");
    }
    return length;
  }

  private static MaskedInput readVector(Reader in, MessageHeader header) throws MalformedMessageException {
    int ringBits = ringBits(in);
    long length = vectorLength(in);
    int width = (ringBits + 7) / 8;
    in.require(length * width, "values");
    int[] values = new int[(int) length];
    if (width == 4) {
      in.ints(values);
    } else {
      long limit = 1L << ringBits;
      for (int i = 0; i < values.length; i++) {
        int value = 0;
        for (int b = 0; b < width; b++) {
          value |= in.u8("values") << (8 * b);
        }
        if (value >= limit) {
          throw new MalformedMessageException("values[" + i + "] = " + value + " is outside the ring Z_2^"
              + ringBits);
        }
        values[i] = value;
      }
    }
    return new MaskedInput(header, ringBits, values);
  }

  private static final class Writer {
    private byte[] buffer;
    private int size;

    Writer(int capacity) {
      buffer = new byte[capacity];
    }

    private void ensure(int extra) {
      if (size + extra > buffer.length) {
        buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, size + extra));
      }
    }

    void u8(int value) {
      ensure(1);
      buffer[size++] = (byte) value;
    }

    void u16(int value) {
      u8(value >>> 8);
      u8(value);
    }

    void u32(long value) {
      u16((int) (value >>> 16) & 0xffff);
      u16((int) value & 0xffff);
    }

    void u64(long value) {
      u32(value >>> 32);
      u32(value & 0xffffffffL);
    }

    void raw(byte[] bytes) {
      ensure(bytes.length);
      System.arraycopy(bytes, 0, buffer, size, bytes.length);
      size += bytes.length;
    }

    void str(String value) {
      byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
      if (utf8.length < 1 || utf8.length > RoundParameters.MAX_ID_BYTES) {
        throw new IllegalArgumentException("id '" + value + "' must be 1 to " + RoundParameters.MAX_ID_BYTES
            + " UTF-8 bytes, got " + utf8.length);
      }
      u8(utf8.length);
      raw(utf8);
    }

    void strings(List<String> values) {
      count(values.size());
      values.forEach(this::str);
    }

    void count(int count) {
      if (count > RoundParameters.MAX_BANKS) {
        throw new IllegalArgumentException("list of " + count + " entries exceeds " + RoundParameters.MAX_BANKS);
      }
      u16(count);
    }

    void fixed(byte[] bytes, int length, String field) {
      if (bytes.length != length) {
        throw new IllegalArgumentException(field + " must be " + length + " bytes, got " + bytes.length);
      }
      raw(bytes);
    }

    void blob16(byte[] bytes) {
      if (bytes.length > 0xffff) {
        throw new IllegalArgumentException("blob of " + bytes.length + " bytes exceeds 65535");
      }
      u16(bytes.length);
      raw(bytes);
    }

    void ints(int[] values) {
      ensure(values.length * 4);
      ByteBuffer.wrap(buffer, size, values.length * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(values);
      size += values.length * 4;
    }

    byte[] toByteArray() {
      return size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
    }
  }

  private static final class Reader {
    private final byte[] bytes;
    private int offset;

    Reader(byte[] bytes) throws MalformedMessageException {
      if (bytes == null || bytes.length == 0) {
        throw new MalformedMessageException("empty message");
      }
      this.bytes = bytes;
    }

    void require(long count, String field) throws MalformedMessageException {
      if (count > bytes.length - offset) {
        throw new MalformedMessageException("truncated: field " + field + " at offset " + offset + " needs "
            + count + " bytes, only " + (bytes.length - offset) + " remain");
      }
    }

    int u8(String field) throws MalformedMessageException {
      require(1, field);
      return bytes[offset++] & 0xff;
    }

    int u16(String field) throws MalformedMessageException {
      require(2, field);
      int value = ((bytes[offset] & 0xff) << 8) | (bytes[offset + 1] & 0xff);
      offset += 2;
      return value;
    }

    long u32(String field) throws MalformedMessageException {
      require(4, field);
      long value = ((long) u16(field) << 16) | u16(field);
      return value;
    }

    long u64(String field) throws MalformedMessageException {
      require(8, field);
      return (u32(field) << 32) | u32(field);
    }

    byte[] fixed(int length, String field) throws MalformedMessageException {
      require(length, field);
      byte[] out = Arrays.copyOfRange(bytes, offset, offset + length);
      offset += length;
      return out;
    }

    String str(String field) throws MalformedMessageException {
      int start = offset;
      int length = u8(field + ".length");
      if (length < 1 || length > RoundParameters.MAX_ID_BYTES) {
        throw new MalformedMessageException("field " + field + " at offset " + start + " has length " + length
            + "; expected 1 to " + RoundParameters.MAX_ID_BYTES);
      }
      byte[] utf8 = fixed(length, field);
      try {
        CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(utf8));
        return chars.toString();
      } catch (CharacterCodingException e) {
        throw new MalformedMessageException("field " + field + " at offset " + start + " is not valid UTF-8");
      }
    }

    int count(String field) throws MalformedMessageException {
      int count = u16(field + ".count");
      if (count > RoundParameters.MAX_BANKS) {
        throw new MalformedMessageException("field " + field + " lists " + count + " entries; at most "
            + RoundParameters.MAX_BANKS);
      }
      return count;
    }

    List<String> strings(String field) throws MalformedMessageException {
      int count = count(field);
      List<String> values = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        values.add(str(field + "[" + i + "]"));
      }
      return values;
    }

    byte[] blob16(String field, int min, int max) throws MalformedMessageException {
      int start = offset;
      int length = u16(field + ".length");
      if (length < min || length > max) {
        throw new MalformedMessageException("field " + field + " at offset " + start + " has length " + length
            + "; expected " + min + " to " + max);
      }
      return fixed(length, field);
    }

    byte[] signature() throws MalformedMessageException {
      return blob16("signature", 1, MAX_SIGNATURE_BYTES);
    }

    void ints(int[] values) {
      ByteBuffer.wrap(bytes, offset, values.length * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(values);
      offset += values.length * 4;
    }

    void requireEnd() throws MalformedMessageException {
      if (offset != bytes.length) {
        throw new MalformedMessageException((bytes.length - offset) + " trailing bytes after the message at offset "
            + offset);
      }
    }
  }
}
