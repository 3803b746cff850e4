package io.consort.participant;

import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.JobFinished;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ModelFileException;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.PublishedModelFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Keeps the published model that the coordinator sends with a job's finished notice, as
 * {@code <job>-model.consort} next to the bare final model, after checking what the bank can check
 * itself: the file's format version and checksum, that the plan inside is the one this bank
 * accepted, that the parameters inside are the notice's final model, and that this model was
 * released (the bank countersigned its ledger entry, or it is the job's initial model). The
 * calibration and the evaluation figures in it are the coordinator's, computed from the merged
 * evaluation histograms, which the bank does not see; the bank takes them as the coordinator's
 * statement, as it takes the other banks' part of the model. A file that fails a check is not kept:
 * the bank logs why and keeps only the bare model, which it scores uncalibrated if at all.
 */
final class PublishedModelKeeper {
  /** Throws {@link ProtocolViolationException} when the bank did not see {@code model} released. */
  interface ReleaseCheck {
    void requireReleased(ModelParameters model) throws IOException;
  }

  private PublishedModelKeeper() {}

  /** The kept file, or empty (with the reason logged by the caller) when the notice had none or it was refused. */
  static Optional<Path> keep(Path jobsDir, JobPlan acceptedPlan, JobFinished notice, ReleaseCheck released)
      throws IOException {
    if (notice.getPublishedModel().isEmpty()) {
      return Optional.empty();
    }
    String jobId = acceptedPlan.getJobId();
    byte[] bytes = notice.getPublishedModel().toByteArray();
    PublishedModel model = PublishedModelFile.decode(bytes, "the published model of job '" + jobId + "'");
    if (!model.body().getPlan().equals(acceptedPlan)) {
      throw new ModelFileException("the published model of job '" + jobId + "'",
          "its plan is not the one this bank accepted");
    }
    if (!model.parametersSha256().equals(notice.getFinalModel().getSha256())) {
      throw new ModelFileException("the published model of job '" + jobId + "'", "its parameters ("
          + model.parametersSha256() + ") are not the final model of the notice (" + notice.getFinalModel().getSha256()
          + ")");
    }
    released.requireReleased(model.body().getModel());
    Path target = jobsDir.resolve(jobId + "-model" + PublishedModelFile.EXTENSION);
    Files.createDirectories(jobsDir);
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return Optional.of(target);
  }
}
