package io.consort.participant;

import io.consort.model.data.DataSplitter;
import io.consort.model.data.Table;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Which of its rows a bank holds out for evaluation: its own configured fraction, and an order fixed
 * by a secret key that never leaves the bank and by the data's version (the SHA-256 of its file).
 * The same data gives the same split in every job, so the training rows behind two jobs' statistics
 * and updates are the same rows: a coordinator cannot move one customer from the training to the
 * held-out part between two jobs and difference what it learns. The key ({@value #KEY_FILE}, 32
 * bytes from {@link SecureRandom}) is created on first use; the split's seed is the first 8 bytes of
 * HMAC-SHA256(key, "consort-split/v1" || data hash).
 */
public final class BankSplit {
  static final String KEY_FILE = "split-key";

  private BankSplit() {}

  /** The bank's train/test split of {@code table}, read from the bank's data file. */
  public static DataSplitter.TrainTest of(ParticipantConfig config, Table table) throws IOException {
    return DataSplitter.trainTest(table, config.testFraction(), seed(config.dataDir(), config.dataFile()));
  }

  /** The split's seed for the bank whose records are in {@code dataDir} and whose data is {@code dataFile}. */
  static long seed(Path dataDir, Path dataFile) throws IOException {
    byte[] key = key(dataDir);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update("consort-split/v1".getBytes(StandardCharsets.US_ASCII));
      mac.update(dataVersion(dataFile));
      return ByteBuffer.wrap(mac.doFinal()).getLong();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  /** SHA-256 of the data file: the data's version. */
  static byte[] dataVersion(Path dataFile) throws IOException {
    try (InputStream in = Files.newInputStream(dataFile)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha.update(buffer, 0, n);
      }
      return sha.digest();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }

  private static byte[] key(Path dataDir) throws IOException {
    Path file = dataDir.resolve(KEY_FILE);
    if (!Files.exists(file)) {
      Files.createDirectories(dataDir);
      byte[] fresh = new byte[32];
      new SecureRandom().nextBytes(fresh);
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(fresh));
        ch.force(true);
      } catch (FileAlreadyExistsException raced) {
        // another process created it first: use theirs
      }
    }
    byte[] key = Files.readAllBytes(file);
    if (key.length != 32) {
      throw new IOException(file + " must hold 32 bytes (the bank's split key), it holds " + key.length);
    }
    return key;
  }
}
