package io.consort.cli;

import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run one benchmark measurement.",
    subcommands = {io.consort.cli.bench.SecAggBenchCommand.class, io.consort.cli.bench.RoundBenchCommand.class,
        io.consort.cli.bench.CoordinatorNode.class})
final class BenchCommand {}
