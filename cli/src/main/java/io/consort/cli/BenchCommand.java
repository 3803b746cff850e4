package io.consort.cli;

import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run one benchmark measurement.",
    subcommands = {})
final class BenchCommand {}
