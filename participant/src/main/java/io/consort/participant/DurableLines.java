package io.consort.participant;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.zip.CRC32;

/**
 * An append-only file of tab-separated records that a bank writes before something leaves it, so a
 * restart never forgets it. Each line is {@code field<TAB>field...<TAB>crc}, the CRC-32 of the rest of
 * the line last, so a torn or altered line is recognised; each append is forced to disk, and so is the
 * directory entry when the file is created. A torn last line (a crash while writing) is skipped: the
 * write is forced before anything is sent, so only a fully written line can have been acted on. Any
 * other line that does not parse is refused: the file must not be edited. Not thread-safe.
 */
final class DurableLines {
  private final Path file;

  DurableLines(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  /**
   * Every record in the file, parsed by {@code parse} from its fields (the CRC already checked and
   * removed); {@code parse} returns null for fields it does not accept.
   *
   * @throws IOException if a line other than a torn last one is corrupt
   */
  <T> List<T> readAll(Function<String[], T> parse) throws IOException {
    List<T> records = new ArrayList<>();
    if (!Files.exists(file)) {
      return records;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isEmpty() && i == lines.size() - 1) {
        continue;
      }
      T record = null;
      int lastTab = line.lastIndexOf('\t');
      if (lastTab >= 0 && line.substring(lastTab + 1).equals(crc(line.substring(0, lastTab)))) {
        try {
          record = parse.apply(line.substring(0, lastTab).split("\t", -1));
        } catch (IllegalArgumentException e) {
          record = null;
        }
      }
      if (record == null) {
        if (i == lines.size() - 1) {
          continue;
        }
        throw new IOException(file + " line " + (i + 1) + " is corrupt (this file must not be edited): '" + line + "'");
      }
      records.add(record);
    }
    return records;
  }

  /** Appends one record and forces it to disk; the fields must not contain tabs or line breaks. */
  void append(String... fields) throws IOException {
    for (String field : fields) {
      if (field.indexOf('\t') >= 0 || field.indexOf('\n') >= 0 || field.indexOf('\r') >= 0) {
        throw new IllegalArgumentException("a field must not contain a tab or line break: '" + field + "'");
      }
    }
    String body = String.join("\t", fields);
    String line = body + "\t" + crc(body) + "\n";
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    boolean created = !Files.exists(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    if (created) {
      // a new file's directory entry must be durable too, or a crash can lose the whole file
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    }
  }

  /** The last of {@code records} that {@code matches}, or null: a journal's latest word on something. */
  static <T> T latest(List<T> records, Predicate<T> matches) {
    for (int i = records.size() - 1; i >= 0; i--) {
      if (matches.test(records.get(i))) {
        return records.get(i);
      }
    }
    return null;
  }

  private static String crc(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    return String.format(Locale.ROOT, "%08x", crc.getValue());
  }
}
