package io.consort.privacy.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.consort.privacy.accounting.PrivacyEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A bank's own copy of the ledger entries it took part in, as JSON lines in its data directory
 * ({@value #FILE_NAME}), one signed entry per line, appended and forced to disk before the bank
 * countersigns. It lets the bank enforce its budget without trusting the coordinator and, compared with
 * the coordinator's export, shows whether any of its entries went missing.
 *
 * <p>The file is read and checked once, when the store is opened; from then on the entries, and the
 * owning bank's composed RDP totals per unit, are kept in memory and updated after each append has been
 * forced to disk (an append that fails leaves them as they were). So checking a new entry's spend costs
 * one curve evaluation per mechanism, not a re-read and replay of the whole file. The file stays the
 * truth across restarts: opening it again gives the same state. An append to a file whose length is not
 * the one the store read or wrote (a torn line left by a write that failed part way) is refused, as a
 * re-read would have refused it.
 *
 * <p>A torn last line, bytes after the file's last line break, is what a crash or a full disk leaves in
 * the middle of an append. Its entry was never countersigned (the countersignature leaves the bank only
 * after the whole line, break included, is forced to disk), so opening the store drops it: the file is
 * cut back to its last whole line and forced, and the bank starts without operator action. A whole line
 * (ending in a line break) that does not parse is refused, naming the line: the file must not be edited.
 * Not thread-safe.
 */
public final class LocalLedgerStore {

  public static final String FILE_NAME = "privacy-ledger.jsonl";

  private final Path file;
  private final String bankId;
  private final List<SignedLedgerEntry> entries;
  /** {@link SpendCalculator#replay} of the entries, for {@link #bankId} alone. */
  private final SpendCalculator spends = new SpendCalculator();
  /** (job id, model checksum) of every entry held. */
  private final Set<List<String>> models = new HashSet<>();
  /** The file's length as this store read or wrote it: an append to a file of another length is refused. */
  private long length;

  /**
   * Opens {@code bankId}'s copy in {@code dataDirectory}, reading and checking the whole file.
   *
   * @throws LedgerFormatException naming the line if a line is truncated or malformed
   */
  public LocalLedgerStore(Path dataDirectory, String bankId) throws IOException {
    this.file = Objects.requireNonNull(dataDirectory, "dataDirectory").resolve(FILE_NAME);
    this.bankId = Objects.requireNonNull(bankId, "bankId");
    Contents contents = read(file);
    if (contents.wholeLength() < contents.fileLength()) {
      // a torn last line: an append that never completed, so never countersigned
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
        channel.truncate(contents.wholeLength());
        channel.force(true);
      }
    }
    this.entries = contents.entries();
    this.length = contents.wholeLength();
    for (SignedLedgerEntry entry : entries) {
      remember(entry.entry());
    }
  }

  public Path file() {
    return file;
  }

  /**
   * Appends an entry; sequences must increase (the bank sees only its own entries, so gaps are
   * normal).
   */
  public void append(SignedLedgerEntry entry) throws IOException {
    if (!entries.isEmpty()) {
      long last = entries.get(entries.size() - 1).entry().sequence();
      if (entry.entry().sequence() <= last) {
        throw new IllegalArgumentException("entry sequence must be > " + last + ", got " + entry.entry().sequence());
      }
    }
    SpendCalculator.requireKnown(entry.entry().accounting()); // so that remembering it cannot fail once written
    byte[] line;
    try {
      line = (LedgerJson.MAPPER.writeValueAsString(LedgerJson.write(entry)) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IOException("entry " + entry.entry().sequence() + " could not be encoded", e);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      // the entries in memory are the file's only while it is as long as they were read or written: after a
      // write that failed part way a torn line ends it, and an entry appended now would share that line
      long found = channel.size();
      if (found != length) {
        throw new LedgerFormatException(file.getFileName() + " changed since it was read (" + found + " bytes, "
            + length + " expected): a torn or foreign line; entry " + entry.entry().sequence()
            + " is not appended (restart the bank to read the copy afresh)");
      }
      ByteBuffer buffer = ByteBuffer.wrap(line);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
      length = found + line.length;
    }
    // only now, with the line on disk, does the entry count
    entries.add(entry);
    remember(entry.entry());
  }

  private void remember(LedgerEntry entry) {
    // the owner's totals depend only on the entries it is in and its own mechanisms in them
    List<String> owner = entry.participatingBanks().contains(bankId) ? List.of(bankId) : List.of();
    spends.apply(entry.accounting(), owner, entry.mechanisms(), entry.delta());
    models.add(List.of(entry.jobId(), entry.modelChecksum()));
  }

  /** All held entries, oldest first (as read when opened, plus those appended since). */
  public List<SignedLedgerEntry> entries() {
    return List.copyOf(entries);
  }

  /**
   * What the owning bank's spend would be if {@code mechanisms} were entered next, after every held
   * entry: {@code SpendCalculator.replay(entries).preview(List.of(bankId), ...)}, bit for bit.
   */
  public BankSpend previewSpend(List<MechanismRecord> mechanisms, double delta) {
    return spends.preview(List.of(bankId), mechanisms, delta).get(bankId);
  }

  /** Whether a held entry of {@code jobId} released the model with checksum {@code modelChecksum}. */
  public boolean holdsModel(String jobId, String modelChecksum) {
    return models.contains(List.of(jobId, modelChecksum));
  }

  /**
   * The entries stored in the file now, read afresh, oldest first; a torn last line (no line break after
   * it) is not an entry.
   *
   * @throws LedgerFormatException naming the line if a whole line is malformed
   */
  public List<SignedLedgerEntry> readAll() throws IOException {
    return read(file).entries();
  }

  /** A file's entries, the length of its whole lines and its length (longer by a torn last line). */
  private record Contents(List<SignedLedgerEntry> entries, long wholeLength, long fileLength) {}

  private static Contents read(Path file) throws IOException {
    List<SignedLedgerEntry> entries = new ArrayList<>();
    if (!Files.exists(file)) {
      return new Contents(entries, 0, 0);
    }
    byte[] bytes = Files.readAllBytes(file);
    int whole = bytes.length;
    while (whole > 0 && bytes[whole - 1] != '\n') {
      whole--;
    }
    String text = new String(bytes, 0, whole, StandardCharsets.UTF_8);
    String[] lines = text.isEmpty() ? new String[0] : text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      String where = file.getFileName() + " line " + (i + 1);
      if (lines[i].isBlank()) {
        continue;
      }
      try {
        entries.add(LedgerJson.read(LedgerJson.MAPPER.readTree(lines[i]), where));
      } catch (JsonProcessingException e) {
        throw new LedgerFormatException(where + " is malformed or not JSON (this file must not be edited)", e);
      }
    }
    return new Contents(entries, whole, bytes.length);
  }

  /** The bank's record-level events, for its {@link io.consort.privacy.budget.BudgetGuard}. */
  public List<PrivacyEvent> recordLevelHistory(String bankId) {
    return history(bankId, PrivacyUnit.RECORD);
  }

  /** The bank's bank-level events. */
  public List<PrivacyEvent> bankLevelHistory(String bankId) {
    return history(bankId, PrivacyUnit.BANK);
  }

  private List<PrivacyEvent> history(String bankId, PrivacyUnit unit) {
    List<PrivacyEvent> events = new ArrayList<>();
    for (SignedLedgerEntry signed : entries) {
      for (MechanismRecord m : signed.entry().mechanismsFor(bankId)) {
        if (m.unit() == unit && signed.entry().participatingBanks().contains(bankId)) {
          events.add(m.toEvent(signed.entry().accounting()));
        }
      }
    }
    return events;
  }
}
