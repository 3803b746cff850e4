package io.consort.certs;

import io.consort.identity.CertificateValidator;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A throwaway consortium for demos and tests, enrolled the way real members enrol (each key made
 * in its own directory, only the CSR goes to the CA):
 *
 * <pre>
 * dir/ca/{ca.crt.pem, ca.key.pem, index.tsv, crlnumber, crl.pem, issued/}
 * dir/coordinator/{key.pem, csr.pem, cert.pem, chain.pem, ca.crt.pem, crl.pem}   SAN localhost, 127.0.0.1
 * dir/banks/&lt;bank&gt;/{same files}                                                 role participant
 * dir/operator/{same files}                                                      name "operator", role operator
 * dir/auditor/{same files}                                                       name "auditor", role auditor
 * </pre>
 *
 * Not for production: the CA key sits next to the members' keys, and everything is EC P-256
 * with the default validity (CA {@value #CA_DAYS} days, members {@value #MEMBER_DAYS} days).
 */
public final class DemoPki {
  public static final String CA_DIR = "ca";
  public static final String COORDINATOR_DIR = "coordinator";
  public static final String BANKS_DIR = "banks";
  public static final String OPERATOR_NAME = "operator";
  public static final String AUDITOR_NAME = "auditor";
  static final int CA_DAYS = 3650;
  static final int MEMBER_DAYS = 365;

  private final Path directory;
  private final CertificateAuthority authority;
  private final Map<String, TlsMaterial> identities = new LinkedHashMap<>();
  private final String coordinatorName;
  private final List<String> bankNames;

  private DemoPki(Path directory, CertificateAuthority authority, String coordinatorName, List<String> bankNames) {
    this.directory = directory;
    this.authority = authority;
    this.coordinatorName = coordinatorName;
    this.bankNames = List.copyOf(bankNames);
  }

  /** Creates the CA, the coordinator, every bank, an operator and an auditor, and the first CRL. */
  public static DemoPki create(Path dir, String coordinatorName, List<String> bankNames)
      throws IOException, GeneralSecurityException {
    requireDistinct(coordinatorName, bankNames, List.of(OPERATOR_NAME, AUDITOR_NAME));
    DemoPki pki = new DemoPki(dir, CertificateAuthority.init(dir.resolve(CA_DIR), "consort-demo-root",
        KeyAlgorithm.EC_P256, Duration.ofDays(CA_DAYS)), coordinatorName, bankNames);
    pki.enrol(coordinatorName, Role.COORDINATOR, dir.resolve(COORDINATOR_DIR),
        List.of("localhost"), List.of("127.0.0.1"));
    for (String bank : bankNames) {
      pki.enrol(bank, Role.PARTICIPANT, dir.resolve(BANKS_DIR).resolve(bank), List.of(), List.of());
    }
    pki.enrol(OPERATOR_NAME, Role.OPERATOR, dir.resolve(OPERATOR_NAME), List.of(), List.of());
    pki.enrol(AUDITOR_NAME, Role.AUDITOR, dir.resolve(AUDITOR_NAME), List.of(), List.of());
    return pki;
  }

  /**
   * A second, unrelated consortium (its own CA, named {@code foreign-root}) with only banks, laid
   * out like {@link #create}: for tests that a stranger's certificate is refused.
   */
  public static DemoPki createForeign(Path dir, List<String> bankNames) throws IOException, GeneralSecurityException {
    requireDistinct(null, bankNames, List.of());
    DemoPki pki = new DemoPki(dir, CertificateAuthority.init(dir.resolve(CA_DIR), "foreign-root",
        KeyAlgorithm.EC_P256, Duration.ofDays(CA_DAYS)), null, bankNames);
    for (String bank : bankNames) {
      pki.enrol(bank, Role.PARTICIPANT, dir.resolve(BANKS_DIR).resolve(bank), List.of(), List.of());
    }
    return pki;
  }

  /**
   * Enrols one more identity the way a member would: key and CSR in {@code identityDir}, signed
   * by this CA, certificates and current CRL written beside the key. Tests use it for odd cases
   * (a bank name with the auditor role, say).
   */
  public TlsMaterial enrol(String name, Role role, Path identityDir, List<String> dnsNames, List<String> ipAddresses)
      throws IOException, GeneralSecurityException {
    CertificateRequests.CertificateRequest request =
        CertificateRequests.create(identityDir, name, KeyAlgorithm.EC_P256);
    X509Certificate certificate = authority.sign(request.csr(), role, Duration.ofDays(MEMBER_DAYS),
        dnsNames, ipAddresses);
    TlsMaterial material = TlsMaterial.inDirectory(identityDir)
        .writeCertificates(certificate, authority.certificate(), authority.currentCrl());
    identities.put(name, material);
    return material;
  }

  /**
   * Revokes every certificate of {@code name} and copies the new CRL into every identity
   * directory of this consortium (a real deployment distributes {@code crl.pem} its own way).
   */
  public X509CRL revokeAndPublish(String name, RevocationReason reason) throws IOException, GeneralSecurityException {
    authority.revoke(name, reason);
    return publishCrl();
  }

  /** Copies the CA's current CRL into every identity directory. */
  public X509CRL publishCrl() throws IOException {
    X509CRL crl = authority.currentCrl();
    for (TlsMaterial material : identities.values()) {
      PemFiles.writeCrl(material.crlFile(), crl);
    }
    return crl;
  }

  public Path directory() {
    return directory;
  }

  public CertificateAuthority authority() {
    return authority;
  }

  /** The coordinator's files. */
  public TlsMaterial coordinator() {
    if (coordinatorName == null) {
      throw new IllegalStateException("this consortium (" + directory + ") has no coordinator");
    }
    return identity(coordinatorName);
  }

  /** One bank's files. */
  public TlsMaterial bank(String name) {
    if (!bankNames.contains(name)) {
      throw new IllegalArgumentException("bank: '" + name + "' is not one of " + bankNames);
    }
    return identity(name);
  }

  public TlsMaterial operator() {
    return identity(OPERATOR_NAME);
  }

  public TlsMaterial auditor() {
    return identity(AUDITOR_NAME);
  }

  /** Any enrolled identity by name. */
  public TlsMaterial identity(String name) {
    TlsMaterial material = identities.get(name);
    if (material == null) {
      throw new IllegalArgumentException("identity: '" + name + "' is not enrolled in " + directory
          + " (enrolled: " + identities.keySet() + ")");
    }
    return material;
  }

  public List<String> bankNames() {
    return bankNames;
  }

  /** A validator pinned to this consortium's CA with its current CRL. */
  public CertificateValidator validator() throws IOException, GeneralSecurityException {
    return new CertificateValidator(authority.certificate(), authority.currentCrl());
  }

  private static void requireDistinct(String coordinatorName, List<String> bankNames, List<String> reserved) {
    if (bankNames == null || bankNames.isEmpty()) {
      throw new IllegalArgumentException("bank names: at least one bank is required");
    }
    List<String> all = new ArrayList<>(reserved);
    if (coordinatorName != null) {
      all.add(PeerIdentity.requireValidName(coordinatorName));
    }
    Set<String> seen = new HashSet<>(all);
    for (String bank : bankNames) {
      PeerIdentity.requireValidName(bank);
      if (!seen.add(bank)) {
        throw new IllegalArgumentException("bank names: '" + bank
            + "' appears twice or clashes with the coordinator, operator or auditor name");
      }
    }
    if (coordinatorName != null && reserved.contains(coordinatorName)) {
      throw new IllegalArgumentException("coordinator name: '" + coordinatorName + "' is reserved");
    }
  }
}
