package io.consort.participant;

import io.consort.protocol.WireLimits;
import io.consort.protocol.v1.JobPlan;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The jobs this bank accepted, each with the plan it pinned at the offer, durable across restarts
 * ({@code data_dir/jobs/<job>.accepted-plan.pb}). A task for a job that is not here (never offered,
 * declined, or offered with another plan) is refused: the coordinator cannot make a bank work for a
 * job it did not accept, or under a plan it did not accept, even after the bank restarted.
 */
final class AcceptedJobs {
  /** The job id form the job specification allows; anything else cannot name a file here. */
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final Path dir;

  AcceptedJobs(Path dataDir) {
    this.dir = dataDir.resolve("jobs");
  }

  /** Remembers the acceptance durably (file and directory forced to disk) before the bank says yes. */
  void accept(JobPlan plan) throws IOException {
    Path file = file(plan.getJobId());
    Files.createDirectories(dir);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(plan.toByteArray()));
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** The plan this bank accepted for {@code jobId}, if it accepted the job. */
  Optional<JobPlan> plan(String jobId) throws IOException {
    if (!JOB_ID.matcher(jobId).matches()) {
      return Optional.empty();
    }
    Path file = file(jobId);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return Optional.of(WireLimits.decode(JobPlan.parser(), Files.readAllBytes(file), WireLimits.DEFAULT_MAX_MESSAGE_BYTES,
        "accepted plan " + file));
  }

  private Path file(String jobId) {
    if (!JOB_ID.matcher(jobId).matches()) {
      throw new IllegalArgumentException("job id '" + jobId + "' cannot name a file");
    }
    return dir.resolve(jobId + ".accepted-plan.pb");
  }
}
