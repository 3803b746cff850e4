package io.consort.participant;

import io.consort.model.data.DataFormatException;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.DatasetLoader;
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
import java.util.BitSet;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Which of its rows a bank holds out for evaluation: its own configured fraction, and an order fixed
 * by a secret key that never leaves the bank and by the data's version (the SHA-256 of its file, or for
 * a query the digest of its rows, {@link io.consort.model.data.DatasetLoader.Scan#digest}).
 * The same data gives the same split in every job, so the training rows behind two jobs' statistics
 * and updates are the same rows: a coordinator cannot move one customer from the training to the
 * held-out part between two jobs and difference what it learns. The key ({@value #KEY_FILE}, 32
 * bytes from {@link SecureRandom}) is created on first use; the split's seed is the first 8 bytes of
 * HMAC-SHA256(key, "consort-split/v1" || data hash).
 */
public final class BankSplit {
  static final String KEY_FILE = "split-key";

  private BankSplit() {}

  /**
   * The bank's train/test split of {@code table}, read from the bank's data (the rows {@link BankData}
   * holds out, in row order).
   */
  public static DataSplitter.TrainTest of(ParticipantConfig config, Table table) throws IOException,
      DataFormatException {
    byte[] version = config.dataQuery() == null ? dataVersion(config.dataFile())
        : DatasetLoader.scan(config.dataSource(), table.schema(), (row, n, c, p) -> { }).digest();
    BitSet positives = new BitSet(table.rows());
    for (int r = 0; r < table.rows(); r++) {
      positives.set(r, !table.schema().isNumericLabel() && table.isPositive(r));
    }
    BitSet test = testRows(config, positives, table.rows(), version);
    int[] trainRows = new int[table.rows() - test.cardinality()];
    int[] testRows = new int[test.cardinality()];
    int a = 0;
    int b = 0;
    for (int r = 0; r < table.rows(); r++) {
      if (test.get(r)) {
        testRows[b++] = r;
      } else {
        trainRows[a++] = r;
      }
    }
    return new DataSplitter.TrainTest(table.select(trainRows, table.source() + " (train)"),
        table.select(testRows, table.source() + " (test)"));
  }

  /** The rows the bank holds out, from its rows' labels and its data's version. */
  static BitSet testRows(ParticipantConfig config, BitSet positives, int rows, byte[] dataVersion)
      throws IOException {
    return DataSplitter.testRows(positives, rows, config.testFraction(), seed(config.dataDir(), dataVersion));
  }

  /** The split's seed for the bank whose records are in {@code dataDir} and whose data is {@code dataFile}. */
  static long seed(Path dataDir, Path dataFile) throws IOException {
    return seed(dataDir, dataVersion(dataFile));
  }

  /** The split's seed for the bank whose records are in {@code dataDir}, for data of version {@code version}. */
  static long seed(Path dataDir, byte[] version) throws IOException {
    byte[] key = key(dataDir);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update("consort-split/v1".getBytes(StandardCharsets.US_ASCII));
      mac.update(version);
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
