package io.consort.cli;

import picocli.CommandLine.Command;

@Command(name = "consort", mixinStandardHelpOptions = true, version = "consort 0.1.0",
    description = "Privacy-preserving federated learning for a consortium of banks.",
    subcommands = {io.consort.cli.demo.DemoCommand.class, CoordinatorCommand.class, JobCommand.class, ParticipantCommand.class,
        io.consort.cli.certs.CertsCommand.class, io.consort.cli.privacy.PrivacyCommand.class,
        io.consort.cli.audit.AuditCommand.class, io.consort.cli.score.ScoreCommand.class,
        io.consort.cli.score.ModelCommand.class, DataCommand.class, BenchCommand.class,
        io.consort.cli.experiment.ExperimentCommand.class})
final class ConsortCommand {}
