package io.consort.cli.score;

import io.consort.scoring.PublishedModel;
import io.consort.scoring.PublishedModelFile;
import io.consort.scoring.card.ModelCard;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code consort model}: look into a published model file. */
@Command(name = "model", mixinStandardHelpOptions = true, description = "Inspect a published model file, or pull one from the coordinator.",
    subcommands = {ModelCommand.Card.class, ModelCommand.Pull.class})
public final class ModelCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Prints the model card, rebuilt from the file alone (a bank can do it from its own copy). */
  @Command(name = "card", mixinStandardHelpOptions = true,
      description = "Print the model card of a published model (Markdown, or JSON with --json).")
  static final class Card implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "published model file")
    Path model;

    @Option(names = "--json", description = "print the card's JSON form")
    boolean json;

    @Override
    public Integer call() throws Exception {
      PublishedModel m = PublishedModelFile.read(model);
      spec.commandLine().getOut().print(json ? ModelCard.json(m) : ModelCard.markdown(m));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /**
   * Downloads a job's model from the coordinator's operator API (operator certificate): the final
   * published model, checked against the SHA-256 the coordinator sent and decoded as strictly as a
   * bank does before it is written, or with {@code --round} the model a round released, with its
   * provenance (round record, ledger entries, ledger head, code version) beside it.
   */
  @Command(name = "pull", mixinStandardHelpOptions = true,
      description = "Download a job's published model (or a round's model with --round) with its provenance.")
  static final class Pull implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    io.consort.cli.jobs.OperatorClient.Options api;

    @picocli.CommandLine.Parameters(paramLabel = "JOB", description = "job id")
    String job;

    @Option(names = "--round", paramLabel = "N", description = "the model released in round N instead of the final one")
    Integer round;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = ".", description = "where to write (default: here)")
    Path out;

    @Override
    public Integer call() throws Exception {
      java.io.PrintWriter w = spec.commandLine().getOut();
      try (io.consort.cli.jobs.OperatorClient client = api.connect()) {
        String path = "/api/v1/jobs/" + io.consort.cli.jobs.OperatorClient.pathSegment(job) + "/model"
            + (round == null ? "" : "?round=" + round);
        io.consort.cli.jobs.OperatorClient.Response r = client.get(path, "x-consort-sha256");
        if (r.status() != 200) {
          throw new IllegalStateException(r.error() + " (HTTP " + r.status() + ")");
        }
        java.nio.file.Files.createDirectories(out);
        if (round == null) {
          byte[] bytes = r.body().getBytes();
          String sha = sha256(bytes);
          if (!sha.equals(r.header())) {
            throw new IllegalStateException("the model's SHA-256 " + sha + " is not the " + r.header()
                + " the coordinator sent; nothing written");
          }
          PublishedModel model = PublishedModelFile.decode(bytes, "the published model of job '" + job + "'");
          if (!model.spec().id().equals(job)) {
            throw new IllegalStateException("the coordinator sent the model of job '" + model.spec().id() + "'");
          }
          Path file = out.resolve(job + "-model" + PublishedModelFile.EXTENSION);
          java.nio.file.Files.write(file, bytes);
          Path card = out.resolve(job + "-model-card.json");
          java.nio.file.Files.writeString(card, ModelCard.json(model));
          w.printf("wrote %s (SHA-256 %s) and its provenance %s%n", file, sha, card);
        } else {
          io.vertx.core.json.JsonObject body = r.json();
          byte[] bytes = java.util.Base64.getDecoder().decode(body.getString("model"));
          String sha = sha256(bytes);
          if (!sha.equals(body.getString("model_bytes_sha256"))) {
            throw new IllegalStateException("the model's SHA-256 " + sha + " is not the one the coordinator sent");
          }
          io.consort.protocol.v1.ModelParameters model = io.consort.protocol.WireLimits.decode(
              io.consort.protocol.v1.ModelParameters.parser(), bytes, bytes.length + 1, "round " + round + " model");
          if (!io.consort.protocol.ModelChecksum.sha256Hex(io.consort.model.wire.ModelWire.values(model))
              .equals(model.getSha256())) {
            throw new IllegalStateException("the round " + round + " model's parameters do not match its checksum");
          }
          Path file = out.resolve(job + "-round-" + round + "-model.pb");
          java.nio.file.Files.write(file, bytes);
          body.remove("model");
          Path provenance = out.resolve(job + "-round-" + round + "-provenance.json");
          java.nio.file.Files.writeString(provenance, body.encodePrettily());
          w.printf("wrote %s (SHA-256 %s, parameters %s) and its provenance %s%n", file, sha, model.getSha256(),
              provenance);
        }
      }
      w.flush();
      return 0;
    }

    private static String sha256(byte[] bytes) throws java.security.NoSuchAlgorithmException {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }
  }
}
