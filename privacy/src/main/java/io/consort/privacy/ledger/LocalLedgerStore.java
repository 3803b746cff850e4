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
import java.util.List;
import java.util.Objects;

/**
 * A bank's own copy of the ledger entries it took part in, as JSON lines in its data directory
 * ({@value #FILE_NAME}), one signed entry per line, appended and forced to disk before the bank
 * countersigns. It lets the bank enforce its budget without trusting the coordinator and, compared with
 * the coordinator's export, shows whether any of its entries went missing. Not thread-safe.
 */
public final class LocalLedgerStore {

  public static final String FILE_NAME = "privacy-ledger.jsonl";

  private final Path file;

  public LocalLedgerStore(Path dataDirectory) {
    this.file = Objects.requireNonNull(dataDirectory, "dataDirectory").resolve(FILE_NAME);
  }

  public Path file() {
    return file;
  }

  /**
   * Appends an entry; sequences must increase (the bank sees only its own entries, so gaps are
   * normal).
   */
  public void append(SignedLedgerEntry entry) throws IOException {
    List<SignedLedgerEntry> existing = readAll();
    if (!existing.isEmpty()) {
      long last = existing.get(existing.size() - 1).entry().sequence();
      if (entry.entry().sequence() <= last) {
        throw new IllegalArgumentException("entry sequence must be > " + last + ", got " + entry.entry().sequence());
      }
    }
    byte[] line;
    try {
      line = (LedgerJson.MAPPER.writeValueAsString(LedgerJson.write(entry)) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IOException("entry " + entry.entry().sequence() + " could not be encoded", e);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      ByteBuffer buffer = ByteBuffer.wrap(line);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
  }

  /**
   * All stored entries, oldest first.
   *
   * @throws LedgerFormatException naming the line if a line is truncated or malformed
   */
  public List<SignedLedgerEntry> readAll() throws IOException {
    List<SignedLedgerEntry> entries = new ArrayList<>();
    if (!Files.exists(file)) {
      return entries;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String where = file.getFileName() + " line " + (i + 1);
      if (lines.get(i).isBlank()) {
        continue;
      }
      try {
        entries.add(LedgerJson.read(LedgerJson.MAPPER.readTree(lines.get(i)), where));
      } catch (JsonProcessingException e) {
        throw new LedgerFormatException(where + " is truncated or not JSON", e);
      }
    }
    return entries;
  }

  /** The bank's record-level events, for its {@link io.consort.privacy.budget.BudgetGuard}. */
  public List<PrivacyEvent> recordLevelHistory(String bankId) throws IOException {
    return history(bankId, PrivacyUnit.RECORD);
  }

  /** The bank's bank-level events. */
  public List<PrivacyEvent> bankLevelHistory(String bankId) throws IOException {
    return history(bankId, PrivacyUnit.BANK);
  }

  private List<PrivacyEvent> history(String bankId, PrivacyUnit unit) throws IOException {
    List<PrivacyEvent> events = new ArrayList<>();
    for (SignedLedgerEntry signed : readAll()) {
      for (MechanismRecord m : signed.entry().mechanismsFor(bankId)) {
        if (m.unit() == unit && signed.entry().participatingBanks().contains(bankId)) {
          events.add(m.toEvent(signed.entry().accounting()));
        }
      }
    }
    return events;
  }
}
