package io.consort.cli.certs;

import io.consort.certs.CertificateAuthority;
import io.consort.certs.CertificateRequests;
import io.consort.certs.IssuedCertificate;
import io.consort.certs.PemFiles;
import io.consort.certs.RevocationReason;
import io.consort.certs.TlsMaterial;
import io.consort.cli.option.OptionValues;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.Role;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort certs}: the consortium PKI from the command line. Enrolment is split on purpose:
 * {@code request} runs at the bank (the key never leaves it), {@code sign} runs at the CA with
 * only the request. See docs/PKI.md.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
    description = "Consortium PKI: root CA, enrolment (request at the member, sign at the CA), revocation and CRL.",
    subcommands = {CertsCommand.InitCa.class, CertsCommand.Request.class, CertsCommand.Sign.class,
        CertsCommand.Revoke.class, CertsCommand.Crl.class, CertsCommand.ListIssued.class})
public final class CertsCommand implements Callable<Integer> {
  static final String DEFAULT_CA_DIR = "certs/ca";

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  /** One subcommand: prints what it wrote; any failure is one line on stderr and exit code 1. */
  abstract static class Action implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public final Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try {
        run(out);
        out.flush();
        return 0;
      } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
        spec.commandLine().getErr().println("consort certs " + spec.name() + ": " + describe(e));
        return 1;
      }
    }

    abstract void run(PrintWriter out) throws IOException, GeneralSecurityException;

    static String describe(Exception e) {
      if (e instanceof FileSystemException && ((FileSystemException) e).getReason() == null) {
        String what = e instanceof NoSuchFileException ? "file does not exist"
            : e instanceof AccessDeniedException ? "permission denied" : e.getClass().getSimpleName();
        return e.getMessage() + ": " + what;
      }
      return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
  }

  /** {@code --ca-dir}, shared by every command that works on an existing CA. */
  static final class CaDirectory {
    @Option(names = "--ca-dir", defaultValue = DEFAULT_CA_DIR, description = "CA directory (default: ${DEFAULT-VALUE})")
    Path dir;

    CertificateAuthority load() throws IOException, GeneralSecurityException {
      if (!Files.isDirectory(dir)) {
        throw new NoSuchFileException(dir.toString(), null,
            "no CA directory here; run 'consort certs init-ca' first or pass --ca-dir");
      }
      return CertificateAuthority.load(dir);
    }
  }

  /** {@code --algorithm}, for the commands that create a key. */
  static final class KeyAlgorithmOption {
    @Option(names = "--algorithm", defaultValue = "ec-p256", converter = OptionValues.KeyAlgorithms.class,
        completionCandidates = OptionValues.KeyAlgorithms.class,
        description = "${COMPLETION-CANDIDATES}; Vert.x (coordinator, participant) cannot load ed25519 keys"
            + " (default: ${DEFAULT-VALUE})")
    KeyAlgorithm value;
  }

  @Command(name = "init-ca", mixinStandardHelpOptions = true,
      description = "Create the consortium root CA (key mode 600, certificate, empty index, CRL number 1).")
  public static final class InitCa extends Action {
    @Option(names = "--dir", defaultValue = DEFAULT_CA_DIR, description = "CA directory (default: ${DEFAULT-VALUE})")
    Path dir;

    @Option(names = "--name", defaultValue = "consortium-root", description = "CA common name (default: ${DEFAULT-VALUE})")
    String name;

    @Mixin KeyAlgorithmOption algorithm;

    @Option(names = "--days", defaultValue = "3650", description = "validity in days (default: ${DEFAULT-VALUE})")
    int days;

    @Override
    void run(PrintWriter out) throws IOException, GeneralSecurityException {
      CertificateAuthority ca = CertificateAuthority.init(dir, name, algorithm.value, days(days));
      out.printf("created CA '%s' (%s), valid until %s%n", name, algorithm.value.cliName(),
          ca.certificate().getNotAfter().toInstant());
      out.printf("  wrote %s (CA certificate: give it to every member)%n", ca.certificateFile());
      out.printf("  wrote %s (CA private key, mode 600: keep it on this host only, ideally offline)%n",
          dir.resolve(CertificateAuthority.KEY_FILE));
      out.printf("  wrote %s (certificate index)%n", dir.resolve(CertificateAuthority.INDEX_FILE));
      out.printf("  wrote %s (CRL number 1)%n", ca.crlFile());
    }
  }

  @Command(name = "request", mixinStandardHelpOptions = true,
      description = "At the member: create a private key (mode 600) and a certificate signing request for the CA.")
  public static final class Request extends Action {
    @Option(names = "--name", required = true, description = "identity name, e.g. bank-a ([a-z0-9][a-z0-9-]{0,62})")
    String name;

    @Option(names = "--dir", defaultValue = ".", description = "directory for key.pem and csr.pem (default: ${DEFAULT-VALUE})")
    Path dir;

    @Mixin KeyAlgorithmOption algorithm;

    @Override
    void run(PrintWriter out) throws IOException, GeneralSecurityException {
      CertificateRequests.CertificateRequest request =
          CertificateRequests.create(dir, name, algorithm.value);
      out.printf("wrote %s (private key, mode 600: never send or copy it)%n", request.keyFile());
      out.printf("wrote %s (certificate request for '%s': send this file to the CA operator)%n",
          request.csrFile(), name);
    }
  }

  @Command(name = "sign", mixinStandardHelpOptions = true,
      description = {"At the CA: issue a certificate for a request.",
          "Writes the certificate to --out and, beside it, the chain (leaf then CA), the CA certificate and the"
              + " current CRL: the files to send back to the member."})
  public static final class Sign extends Action {
    @Option(names = "--csr", required = true, description = "certificate signing request (PEM)")
    Path csr;

    @Option(names = "--role", required = true, converter = OptionValues.Roles.class,
        completionCandidates = OptionValues.Roles.class, description = "${COMPLETION-CANDIDATES}")
    Role role;

    @Mixin CaDirectory caDirectory;

    @Option(names = "--days", defaultValue = "365", description = "validity in days (default: ${DEFAULT-VALUE})")
    int days;

    @Option(names = "--dns", description = "DNS name for the SAN (repeatable; the coordinator needs its host names)")
    List<String> dnsNames = new ArrayList<>();

    @Option(names = "--ip", description = "IP address for the SAN (repeatable)")
    List<String> ipAddresses = new ArrayList<>();

    @Option(names = "--out", description = "certificate file (default: cert.pem beside csr.pem, else NAME.crt.pem beside NAME.csr.pem)")
    Path outFile;

    @Override
    void run(PrintWriter out) throws IOException, GeneralSecurityException {
      PKCS10CertificationRequest request = PemFiles.readCsr(csr);
      CertificateAuthority ca = caDirectory.load();
      X509Certificate issued = ca.sign(request, role, days(days), dnsNames, ipAddresses);
      Path certificateFile = outFile != null ? outFile : defaultCertificateFile(csr);
      TlsMaterial written = TlsMaterial.inDirectory(certificateFile.getParent() == null ? Path.of("") : certificateFile.getParent())
          .withCertificateFile(certificateFile)
          .withChainFile(chainFileFor(certificateFile))
          .writeCertificates(issued, ca.certificate(), ca.currentCrl());
      out.printf("issued %s certificate for '%s', serial %s, valid until %s%n", role.wireName(),
          request.getSubject(), issued.getSerialNumber().toString(16), issued.getNotAfter().toInstant());
      out.printf("  wrote %s (certificate)%n", written.certificateFile());
      out.printf("  wrote %s (chain: certificate then CA)%n", written.chainFile());
      out.printf("  wrote %s (CA certificate)%n", written.caFile());
      out.printf("  wrote %s (current CRL)%n", written.crlFile());
    }

    /** {@code csr.pem} gives {@code cert.pem}; {@code NAME.csr.pem} or {@code NAME.csr} gives {@code NAME.crt.pem}. */
    static Path defaultCertificateFile(Path csrFile) {
      String name = csrFile.getFileName().toString();
      if (name.equals(CertificateRequests.CSR_FILE)) {
        return csrFile.resolveSibling(TlsMaterial.CERTIFICATE_FILE);
      }
      return csrFile.resolveSibling(stem(name, ".csr") + ".crt.pem");
    }

    /** {@code cert.pem} gives {@code chain.pem} (the identity-directory layout); {@code NAME.crt.pem} gives {@code NAME.chain.pem}. */
    static Path chainFileFor(Path certificateFile) {
      String name = certificateFile.getFileName().toString();
      if (name.equals(TlsMaterial.CERTIFICATE_FILE)) {
        return certificateFile.resolveSibling(TlsMaterial.CHAIN_FILE);
      }
      return certificateFile.resolveSibling(stem(name, ".crt") + ".chain.pem");
    }

    private static String stem(String fileName, String secondExtension) {
      String stem = fileName.endsWith(".pem") ? fileName.substring(0, fileName.length() - 4) : fileName;
      return stem.endsWith(secondExtension) ? stem.substring(0, stem.length() - secondExtension.length()) : stem;
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a certificate by serial, or every certificate of a name, and rewrite the CRL.")
  public static final class Revoke extends Action {
    static final class Target {
      @Option(names = "--serial", required = true, description = "serial number in hex (see 'consort certs list')")
      String serial;

      @Option(names = "--name", required = true, description = "revoke every valid certificate of this identity")
      String name;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(names = "--reason", defaultValue = "unspecified", converter = OptionValues.RevocationReasons.class,
        completionCandidates = OptionValues.RevocationReasons.class,
        description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    RevocationReason reason;

    @Mixin CaDirectory caDirectory;

    @Override
    void run(PrintWriter out) throws IOException, GeneralSecurityException {
      CertificateAuthority ca = caDirectory.load();
      List<IssuedCertificate> revoked;
      if (target.serial != null) {
        revoked = List.of(ca.revoke(parseSerial(target.serial), reason));
      } else {
        revoked = ca.revoke(target.name, reason);
      }
      for (IssuedCertificate entry : revoked) {
        out.printf("revoked serial %s ('%s', %s) reason %s%n", entry.serialHex(), entry.name(),
            entry.role().wireName(), reason.cliName());
      }
      printCrl(out, ca.currentCrl(), ca.crlFile());
      out.println("  distribute it to the coordinator and members; they refuse revoked certificates once reloaded");
    }

    private static BigInteger parseSerial(String hex) {
      try {
        BigInteger serial = new BigInteger(hex.startsWith("0x") ? hex.substring(2) : hex, 16);
        if (serial.signum() <= 0) {
          throw new NumberFormatException("not positive");
        }
        return serial;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--serial: '" + hex + "' is not a positive hexadecimal serial number", e);
      }
    }
  }

  @Command(name = "crl", mixinStandardHelpOptions = true,
      description = "Re-issue the CRL (next number, fresh nextUpdate); run it before the current one expires.")
  public static final class Crl extends Action {
    @Mixin CaDirectory caDirectory;

    @Override
    void run(PrintWriter out) throws IOException, GeneralSecurityException {
      CertificateAuthority ca = caDirectory.load();
      printCrl(out, ca.writeCrl(), ca.crlFile());
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List every certificate the CA issued.")
  public static final class ListIssued extends Action {
    @Mixin CaDirectory caDirectory;

    @Override
    void run(PrintWriter out) throws IOException, GeneralSecurityException {
      List<IssuedCertificate> entries = caDirectory.load().list();
      Instant now = Instant.now();
      out.printf("%-32s  %-20s  %-11s  %-7s  %-20s  %s%n", "SERIAL", "NAME", "ROLE", "STATUS", "NOT AFTER", "REVOKED");
      for (IssuedCertificate entry : entries) {
        out.printf("%-32s  %-20s  %-11s  %-7s  %-20s  %s%n", entry.serialHex(), entry.name(), entry.role().wireName(),
            entry.status(now).name().toLowerCase(Locale.ROOT), entry.notAfter(),
            entry.revoked() ? entry.revokedAt() + " " + entry.reason().cliName() : "-");
      }
      out.printf("%d certificate(s)%n", entries.size());
    }
  }

  static void printCrl(PrintWriter out, X509CRL crl, Path file) {
    int revoked = crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size();
    out.printf("wrote %s (CRL number %s, %d revoked, next update %s)%n", file, CertificateAuthority.crlNumber(crl), revoked,
        crl.getNextUpdate().toInstant());
  }

  static Duration days(int days) {
    if (days <= 0) {
      throw new IllegalArgumentException("--days: " + days + " must be positive");
    }
    return Duration.ofDays(days);
  }
}
