package io.consort.cli;

import picocli.CommandLine;

/** Entry point of the {@code consort} launcher. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new ConsortCommand());
    // one clear line for bad input, not a stack trace
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("error: " + e.getMessage());
      return 2;
    });
    return cl;
  }
}
