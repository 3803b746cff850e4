package io.consort.cli;

import io.consort.certs.PemFiles;
import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.job.LedgerKeeper;
import io.consort.coordinator.store.CoordinatorStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort audit export}: run on the coordinator's host while the coordinator is stopped,
 * writes the privacy ledger from its database for an auditor to verify offline with {@code audit
 * verify}. While the coordinator runs its database is its own (no network port), and the same
 * export comes from its operator API ({@code GET /api/v1/ledger}).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Export the coordinator's privacy ledger (entries, signatures, signer certificates, signed head).")
public final class AuditExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--config", required = true, description = "the coordinator's coordinator.yaml")
  Path config;

  @Option(names = "--out", required = true, description = "ledger file to write (JSON)")
  Path out;

  @Override
  public Integer call() throws Exception {
    CoordinatorConfig cfg = ConfigFiles.coordinator(config);
    try (CoordinatorStore store = CoordinatorStore.open(cfg.dataDir())) {
      LedgerKeeper ledger = new LedgerKeeper(store, PemFiles.readPrivateKey(cfg.keyFile()),
          PemFiles.readCertificates(cfg.certFile()).get(0));
      ledger.export(out);
      PrintWriter w = spec.commandLine().getOut();
      w.printf("wrote %d ledger entries to %s%n", ledger.entries().size(), out);
      w.flush();
    }
    return 0;
  }
}
