package io.consort.participant;

import io.consort.protocol.ProtocolViolationException;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The secure sums of a job a bank answers at most once, each written (and forced to disk) before the
 * answer that opens it is sent: the first and second statistics stages and the final evaluation. Their
 * inputs are exact and deterministic, so two sums of one job over rosters R and R \ {h} (or one where the
 * coordinator declares h dropped and one where it does not) would give bank h's own vector as their
 * difference; one answer per job leaves one sum to see. A restarted bank reads the file and still refuses.
 * Without secure aggregation the second stage's answer is recorded too, with the SHA-256 of the preliminary
 * encoding it answered: the bank answers that encoding again (its figures are in the clear already), no other.
 *
 * <p>A line is {@code v1<TAB>job<TAB>kind<TAB>detail<TAB>crc}, the job id percent-encoded, the detail that
 * digest or {@code -} ({@link DurableLines}: a torn last line skipped, an altered line refused). Not thread-safe.
 */
final class AnsweredOnce {
  static final String FILE_NAME = "answered-once-journal.tsv";
  private static final String VERSION = "v1";

  /** What a bank answers once per job. */
  enum Kind {
    FIRST_STATISTICS("first-stage feature statistics"),
    SECOND_STATISTICS("second-stage feature statistics"),
    FINAL_EVALUATION("final evaluation");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    String label() {
      return label;
    }
  }

  private record Answer(String jobId, Kind kind, String detail) {}

  /** The detail of an answer that has none. */
  static final String NO_DETAIL = "-";

  private final DurableLines file;
  private final List<Answer> answers = new ArrayList<>();

  AnsweredOnce(Path dataDir) throws IOException {
    this.file = new DurableLines(dataDir.resolve(FILE_NAME));
    answers.addAll(file.readAll(AnsweredOnce::parse));
  }

  /** The detail this bank recorded when it answered {@code kind} for {@code jobId}, if it did. */
  Optional<String> answered(String jobId, Kind kind) {
    return answers.stream().filter(a -> a.jobId().equals(jobId) && a.kind() == kind).map(Answer::detail).findFirst();
  }

  /** Refuses {@code kind} for {@code jobId} if this bank already answered it, naming the job and the kind. */
  void requireUnanswered(String jobId, Kind kind) {
    if (answered(jobId, kind).isPresent()) {
      throw new ProtocolViolationException("job '" + jobId + "': this bank already answered its " + kind.label()
          + " task; it answers one per job (two secure sums over different rosters would give one bank's own "
          + "figures as their difference)");
    }
  }

  /** Records the answer durably; the answer may leave once this returns. */
  void record(String jobId, Kind kind, String detail) throws IOException {
    requireUnanswered(jobId, kind);
    file.append(VERSION, URLEncoder.encode(jobId, StandardCharsets.UTF_8), kind.name(), detail);
    answers.add(new Answer(jobId, kind, detail)); // only once the line is on disk
  }

  private static Answer parse(String[] f) {
    if (f.length != 4 || !f[0].equals(VERSION) || f[3].isEmpty()) {
      return null;
    }
    return new Answer(URLDecoder.decode(f[1], StandardCharsets.UTF_8), Kind.valueOf(f[2]), f[3]);
  }
}
