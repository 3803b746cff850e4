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
@Command(name = "model", mixinStandardHelpOptions = true, description = "Inspect a published model file.",
    subcommands = ModelCommand.Card.class)
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
}
