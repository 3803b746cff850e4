package io.consort.certs;

import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.consort.identity.RoleExtension;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.util.IPAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consortium's root certificate authority, kept in one directory:
 *
 * <pre>
 * ca.crt.pem     the root certificate (self-signed, CA:true, pathlen 0, keyCertSign + cRLSign)
 * ca.key.pem     its private key, PKCS#8 PEM, mode 600
 * index.tsv      every issued certificate and its status (see {@link #list()})
 * crlnumber      the number of the last CRL issued
 * crl.pem        the current CRL (re-issued on every revocation and by {@link #writeCrl()})
 * issued/SERIAL.crt.pem   a copy of every issued certificate
 * </pre>
 *
 * <p>Operations on one CA directory are serialised by a file lock ({@code .lock}), so two
 * {@code consort certs} commands cannot interleave index updates. The CA never sees a member's
 * private key: members send a PKCS#10 request ({@link CertificateRequests}).
 */
public final class CertificateAuthority {
  public static final String CERTIFICATE_FILE = "ca.crt.pem";
  public static final String KEY_FILE = "ca.key.pem";
  public static final String INDEX_FILE = "index.tsv";
  public static final String CRL_FILE = "crl.pem";
  public static final String CRL_NUMBER_FILE = "crlnumber";
  public static final String ISSUED_DIR = "issued";
  /** How long each CRL is valid (its nextUpdate); validators refuse a CRL past it. */
  public static final Duration CRL_VALIDITY = Duration.ofDays(30);

  private static final Logger LOG = LoggerFactory.getLogger(CertificateAuthority.class);
  private static final String LOCK_FILE = ".lock";
  private static final int SERIAL_BYTES = 16;
  private static final Pattern CA_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}");
  private static final Pattern DNS_NAME = Pattern.compile(
      "(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

  private final Path directory;
  private final X509Certificate certificate;
  private final PrivateKey privateKey;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  private CertificateAuthority(Path directory, X509Certificate certificate, PrivateKey privateKey, Clock clock) {
    this.directory = directory;
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.clock = clock;
  }

  /** Creates a new root CA in {@code caDir} (see {@link #init(Path, String, KeyAlgorithm, Duration, Clock)}). */
  public static CertificateAuthority init(Path caDir, String name, KeyAlgorithm algorithm, Duration validity)
      throws IOException, GeneralSecurityException {
    return init(caDir, name, algorithm, validity, Clock.systemUTC());
  }

  /**
   * Creates a new root CA: key pair, self-signed certificate, empty index and CRL number 1.
   *
   * @param caDir created if missing (mode 700); must not already hold a CA key
   * @param name the CA's subject CN, e.g. {@code consortium-root}; also the O of every issued subject
   * @param clock the time the certificate is issued at (tests use a fixed clock)
   * @throws FileAlreadyExistsException if {@code caDir} already holds a CA
   */
  public static CertificateAuthority init(Path caDir, String name, KeyAlgorithm algorithm, Duration validity,
      Clock clock) throws IOException, GeneralSecurityException {
    Objects.requireNonNull(algorithm, "algorithm");
    if (name == null || !CA_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("CA name: '" + name + "' must be 1-64 letters, digits, spaces, '.', '_' or '-'");
    }
    requirePositive(validity, "CA validity");
    PemFiles.createPrivateDirectory(caDir);
    Path keyFile = caDir.resolve(KEY_FILE);
    if (Files.exists(keyFile) || Files.exists(caDir.resolve(CERTIFICATE_FILE))) {
      throw new FileAlreadyExistsException(caDir.toString(), null,
          "a CA already exists there (" + KEY_FILE + " or " + CERTIFICATE_FILE + "); refusing to replace it");
    }
    KeyPair keyPair = algorithm.generateKeyPair();
    Instant notBefore = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, randomSerial(new SecureRandom()),
        Date.from(notBefore), Date.from(notBefore.plus(validity)), subject, keyPair.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    builder.addExtension(Extension.subjectKeyIdentifier, false,
        extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
    X509Certificate certificate = toCertificate(builder.build(signer(keyPair.getPrivate())));

    PemFiles.writePrivateKey(keyFile, keyPair.getPrivate());
    PemFiles.writeCertificate(caDir.resolve(CERTIFICATE_FILE), certificate);
    Files.createDirectories(caDir.resolve(ISSUED_DIR));
    CertificateIndex.write(caDir.resolve(INDEX_FILE), List.of(), notBefore);
    CertificateAuthority authority = new CertificateAuthority(caDir, certificate, keyPair.getPrivate(), clock);
    authority.writeCrl();
    LOG.info("created consortium CA '{}' in {} ({}, valid until {})", name, caDir, algorithm.cliName(),
        certificate.getNotAfter().toInstant());
    return authority;
  }

  /** Loads an existing CA directory with the system clock. */
  public static CertificateAuthority load(Path caDir) throws IOException, GeneralSecurityException {
    return load(caDir, Clock.systemUTC());
  }

  /**
   * Loads an existing CA directory and checks that its key belongs to its certificate.
   *
   * @param clock the time certificates and CRLs are issued at (tests use a fixed clock)
   */
  public static CertificateAuthority load(Path caDir, Clock clock) throws IOException, GeneralSecurityException {
    Path certificateFile = caDir.resolve(CERTIFICATE_FILE);
    Path keyFile = caDir.resolve(KEY_FILE);
    X509Certificate certificate = PemFiles.readCertificate(certificateFile);
    PrivateKey privateKey = PemFiles.readPrivateKey(keyFile);
    if (!KeyPairs.matches(privateKey, certificate.getPublicKey())) {
      throw new InvalidKeyException(keyFile + ": this private key does not belong to " + certificateFile);
    }
    if (!Files.isRegularFile(caDir.resolve(INDEX_FILE))) {
      throw new IOException(caDir.resolve(INDEX_FILE) + ": file does not exist (not a Consort CA directory?)");
    }
    return new CertificateAuthority(caDir, certificate, privateKey, clock);
  }

  /**
   * Issues an end-entity certificate for a member's CSR.
   *
   * <p>The subject is rebuilt as {@code O=<CA name>, OU=<role>, CN=<name>} from the CSR's CN
   * only; nothing else in the CSR is copied. The certificate carries: basicConstraints CA:false,
   * keyUsage digitalSignature (+ keyAgreement for EC, + keyEncipherment for RSA), extendedKeyUsage
   * clientAuth (+ serverAuth for the coordinator), the {@link RoleExtension}, and a SAN with the
   * given DNS names and IP addresses plus the URI {@code consort:<role>:<name>}.
   *
   * @param validity from now; must end before the CA certificate does
   * @throws SignatureException if the CSR's signature does not verify
   * @throws InvalidKeyException if the CSR's key is too weak or of an unsupported type
   * @throws IllegalArgumentException if the CN, a DNS name or an IP address is not valid
   */
  public synchronized X509Certificate sign(PKCS10CertificationRequest csr, Role role, Duration validity,
      List<String> dnsNames, List<String> ipAddresses) throws IOException, GeneralSecurityException {
    Objects.requireNonNull(csr, "csr");
    Objects.requireNonNull(role, "role");
    requirePositive(validity, "certificate validity");
    String csrSubject = csr.getSubject().toString();
    PublicKey publicKey = csrPublicKey(csr, csrSubject);
    verifyCsrSignature(csr, publicKey, csrSubject);
    KeyAlgorithm keyAlgorithm;
    try {
      keyAlgorithm = KeyAlgorithm.of(publicKey);
    } catch (InvalidKeyException e) {
      throw new InvalidKeyException("CSR '" + csrSubject + "': " + e.getMessage(), e);
    }
    String name = commonName(csr.getSubject(), csrSubject);
    GeneralNames subjectAltNames = subjectAltNames(role, name, dnsNames, ipAddresses);

    Instant notBefore = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant notAfter = notBefore.plus(validity);
    Instant caNotAfter = certificate.getNotAfter().toInstant();
    if (notAfter.isAfter(caNotAfter)) {
      throw new IllegalArgumentException("certificate validity: " + validity.toDays() + " days would end at "
          + notAfter + ", after the CA certificate expires at " + caNotAfter);
    }
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, caName())
        .addRDN(BCStyle.OU, role.wireName())
        .addRDN(BCStyle.CN, name)
        .build();

    try (DirectoryLock lock = lockDirectory()) {
      List<IssuedCertificate> index = CertificateIndex.read(indexFile());
      BigInteger serial = uniqueSerial(index);
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial,
          Date.from(notBefore), Date.from(notAfter), subject, publicKey);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage(keyAlgorithm)));
      builder.addExtension(Extension.extendedKeyUsage, false, role == Role.COORDINATOR
          ? new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth})
          : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      builder.addExtension(Extension.subjectAlternativeName, false, subjectAltNames);
      builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(publicKey));
      builder.addExtension(Extension.authorityKeyIdentifier, false,
          extensions.createAuthorityKeyIdentifier(certificate));
      builder.addExtension(RoleExtension.extension(role));
      X509Certificate issued = toCertificate(builder.build(signer(privateKey)));

      PemFiles.writeCertificate(directory.resolve(ISSUED_DIR).resolve(serial.toString(16) + ".crt.pem"), issued);
      List<IssuedCertificate> updated = new ArrayList<>(index);
      updated.add(new IssuedCertificate(serial, name, role, notBefore, notAfter, null, null));
      CertificateIndex.write(indexFile(), updated, clock.instant());
      LOG.info("issued {} certificate for '{}' serial {} valid until {}", role.wireName(), name,
          serial.toString(16), notAfter);
      return issued;
    }
  }

  /**
   * Revokes one certificate by serial number and re-issues the CRL.
   *
   * @throws IllegalArgumentException if no such certificate was issued, or it is already revoked
   */
  public synchronized IssuedCertificate revoke(BigInteger serial, RevocationReason reason)
      throws IOException, GeneralSecurityException {
    Objects.requireNonNull(serial, "serial");
    List<IssuedCertificate> revoked = revokeMatching(entry -> entry.serial().equals(serial), reason,
        "serial " + serial.toString(16));
    return revoked.get(0);
  }

  /**
   * Revokes every unrevoked certificate issued to {@code name} and re-issues the CRL.
   *
   * @return the certificates revoked now
   * @throws IllegalArgumentException if {@code name} has no unrevoked certificate
   */
  public synchronized List<IssuedCertificate> revoke(String name, RevocationReason reason)
      throws IOException, GeneralSecurityException {
    PeerIdentity.requireValidName(name);
    return revokeMatching(entry -> entry.name().equals(name), reason, "name '" + name + "'");
  }

  private List<IssuedCertificate> revokeMatching(Predicate<IssuedCertificate> selector,
      RevocationReason reason, String what) throws IOException, GeneralSecurityException {
    Objects.requireNonNull(reason, "reason");
    try (DirectoryLock lock = lockDirectory()) {
      List<IssuedCertificate> index = CertificateIndex.read(indexFile());
      List<IssuedCertificate> updated = new ArrayList<>();
      List<IssuedCertificate> revokedNow = new ArrayList<>();
      boolean anyMatch = false;
      Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
      for (IssuedCertificate entry : index) {
        if (selector.test(entry)) {
          anyMatch = true;
          if (!entry.revoked()) {
            entry = entry.revoke(now, reason);
            revokedNow.add(entry);
          }
        }
        updated.add(entry);
      }
      if (!anyMatch) {
        throw new IllegalArgumentException("no certificate with " + what + " in " + indexFile());
      }
      if (revokedNow.isEmpty()) {
        throw new IllegalArgumentException("every certificate with " + what + " is already revoked");
      }
      CertificateIndex.write(indexFile(), updated, now);
      for (IssuedCertificate entry : revokedNow) {
        LOG.info("revoked certificate serial {} of '{}' ({})", entry.serialHex(), entry.name(), reason.cliName());
      }
      issueCrl(updated);
      return revokedNow;
    }
  }

  /**
   * Issues a new CRL (next CRL number, thisUpdate now, nextUpdate now + {@link #CRL_VALIDITY})
   * listing every revoked certificate, and writes it to {@code crl.pem} in the CA directory.
   */
  public synchronized X509CRL writeCrl() throws IOException, GeneralSecurityException {
    try (DirectoryLock lock = lockDirectory()) {
      return issueCrl(CertificateIndex.read(indexFile()));
    }
  }

  /** The CA index: every certificate issued, in issue order. */
  public synchronized List<IssuedCertificate> list() throws IOException {
    return List.copyOf(CertificateIndex.read(indexFile()));
  }

  /** The root certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  public Path directory() {
    return directory;
  }

  public Path certificateFile() {
    return directory.resolve(CERTIFICATE_FILE);
  }

  public Path crlFile() {
    return directory.resolve(CRL_FILE);
  }

  /** The current CRL as last written. */
  public X509CRL currentCrl() throws PemFileException {
    return PemFiles.readCrl(crlFile());
  }

  /**
   * The CRL number extension of a CRL (RFC 5280 section 5.2.3).
   *
   * @throws IllegalArgumentException if the CRL has none
   */
  public static BigInteger crlNumber(X509CRL crl) {
    byte[] value = crl.getExtensionValue(Extension.cRLNumber.getId());
    if (value == null) {
      throw new IllegalArgumentException("CRL from '" + crl.getIssuerX500Principal().getName() + "' has no CRL number");
    }
    return ASN1Integer.getInstance(ASN1OctetString.getInstance(value).getOctets()).getValue();
  }

  @Override
  public String toString() {
    return "CertificateAuthority[" + certificate.getSubjectX500Principal().getName() + " in " + directory + "]";
  }

  private X509CRL issueCrl(List<IssuedCertificate> index) throws IOException, GeneralSecurityException {
    BigInteger number = nextCrlNumber();
    Instant thisUpdate = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    JcaX509v2CRLBuilder builder = new JcaX509v2CRLBuilder(certificate, Date.from(thisUpdate));
    builder.setNextUpdate(Date.from(thisUpdate.plus(CRL_VALIDITY)));
    for (IssuedCertificate entry : index) {
      if (entry.revoked()) {
        builder.addCRLEntry(entry.serial(), Date.from(entry.revokedAt()), entry.reason().crlCode());
      }
    }
    builder.addExtension(Extension.authorityKeyIdentifier, false,
        new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate));
    builder.addExtension(Extension.cRLNumber, false, new CRLNumber(number));
    X509CRL crl = new JcaX509CRLConverter().getCRL(builder.build(signer(privateKey)));
    PemFiles.writeCrl(crlFile(), crl);
    Files.writeString(directory.resolve(CRL_NUMBER_FILE), number + "\n", StandardCharsets.US_ASCII);
    LOG.info("issued CRL number {} with {} revoked certificate(s), next update {}", number,
        crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size(),
        crl.getNextUpdate().toInstant());
    return crl;
  }

  private BigInteger nextCrlNumber() throws IOException {
    Path file = directory.resolve(CRL_NUMBER_FILE);
    if (!Files.exists(file)) {
      return BigInteger.ONE;
    }
    String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    try {
      return new BigInteger(text).add(BigInteger.ONE);
    } catch (NumberFormatException e) {
      throw new IOException(file + ": expected a decimal CRL number but found '" + text + "'", e);
    }
  }

  private DirectoryLock lockDirectory() throws IOException {
    return DirectoryLock.acquire(directory.resolve(LOCK_FILE));
  }

  /** An exclusive lock on the CA directory, held while the index, serials or CRL number change. */
  private static final class DirectoryLock implements AutoCloseable {
    private final FileChannel channel;

    private DirectoryLock(FileChannel channel) {
      this.channel = channel;
    }

    static DirectoryLock acquire(Path lockFile) throws IOException {
      FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        channel.lock();
        return new DirectoryLock(channel);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      channel.close(); // releases the lock
    }
  }

  private Path indexFile() {
    return directory.resolve(INDEX_FILE);
  }

  private String caName() {
    X500Name name = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    return IETFUtils.valueToString(name.getRDNs(BCStyle.CN)[0].getFirst().getValue());
  }

  private BigInteger uniqueSerial(List<IssuedCertificate> index) {
    while (true) {
      BigInteger serial = randomSerial(random);
      if (index.stream().noneMatch(entry -> entry.serial().equals(serial))) {
        return serial;
      }
    }
  }

  /** 128 random bits as a positive, non-zero serial (RFC 5280 section 4.1.2.2 allows up to 20 octets). */
  private static BigInteger randomSerial(SecureRandom random) {
    byte[] bytes = new byte[SERIAL_BYTES];
    BigInteger serial;
    do {
      random.nextBytes(bytes);
      serial = new BigInteger(1, bytes);
    } while (serial.signum() == 0);
    return serial;
  }

  private static PublicKey csrPublicKey(PKCS10CertificationRequest csr, String csrSubject)
      throws InvalidKeyException {
    try {
      return new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
    } catch (PEMException e) {
      throw new InvalidKeyException("CSR '" + csrSubject + "': unsupported or corrupt public key: "
          + e.getMessage(), e);
    }
  }

  private static void verifyCsrSignature(PKCS10CertificationRequest csr, PublicKey publicKey, String csrSubject)
      throws GeneralSecurityException {
    boolean valid;
    try {
      // Bouncy Castle as the named provider: the JDK's SunEC has no KeyFactory under the EC OID alias
      // that the builder asks for, so verification fails on a plain JDK without it.
      valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder()
          .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).build(publicKey));
    } catch (OperatorCreationException | PKCSException e) {
      throw new SignatureException("CSR '" + csrSubject + "': cannot verify its signature: " + e.getMessage(), e);
    }
    if (!valid) {
      throw new SignatureException("CSR '" + csrSubject
          + "': signature does not verify (corrupted, or not signed by the key it carries)");
    }
  }

  private static String commonName(X500Name subject, String csrSubject) {
    var rdns = subject.getRDNs(BCStyle.CN);
    if (rdns.length != 1 || rdns[0].isMultiValued()) {
      throw new IllegalArgumentException("CSR '" + csrSubject + "': expected exactly one CN but found " + rdns.length);
    }
    String name = IETFUtils.valueToString(rdns[0].getFirst().getValue());
    try {
      return PeerIdentity.requireValidName(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("CSR '" + csrSubject + "': " + e.getMessage(), e);
    }
  }

  private static GeneralNames subjectAltNames(Role role, String name, List<String> dnsNames, List<String> ipAddresses) {
    List<GeneralName> names = new ArrayList<>();
    for (String dns : dnsNames == null ? List.<String>of() : dnsNames) {
      if (dns == null || !DNS_NAME.matcher(dns).matches()) {
        throw new IllegalArgumentException("DNS name: '" + dns + "' is not a valid host name (no wildcards)");
      }
      names.add(new GeneralName(GeneralName.dNSName, dns));
    }
    for (String ip : ipAddresses == null ? List.<String>of() : ipAddresses) {
      if (ip == null || !IPAddress.isValid(ip)) {
        throw new IllegalArgumentException("IP address: '" + ip + "' is not an IPv4 or IPv6 address literal");
      }
      names.add(new GeneralName(GeneralName.iPAddress, ip));
    }
    names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri(role, name)));
    return new GeneralNames(names.toArray(new GeneralName[0]));
  }

  /** The URI SAN of an identity: {@code consort:<role>:<name>}. */
  static String uri(Role role, String name) {
    return "consort:" + role.wireName() + ":" + name;
  }

  private static int keyUsage(KeyAlgorithm algorithm) {
    switch (algorithm) {
      case EC_P256:
        return KeyUsage.digitalSignature | KeyUsage.keyAgreement;
      case RSA_3072:
        // keyEncipherment only matters for TLS 1.2 RSA key transport; harmless with TLS 1.3.
        return KeyUsage.digitalSignature | KeyUsage.keyEncipherment;
      default:
        return KeyUsage.digitalSignature;
    }
  }

  private static ContentSigner signer(PrivateKey key) throws GeneralSecurityException {
    try {
      return new JcaContentSignerBuilder(KeyAlgorithm.of(key).signatureAlgorithm()).build(key);
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot create a " + key.getAlgorithm() + " signer: " + e.getMessage(), e);
    }
  }

  private static X509Certificate toCertificate(X509CertificateHolder holder) throws GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(holder);
  }

  private static void requirePositive(Duration validity, String field) {
    if (validity == null || validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException(field + ": " + validity + " must be positive");
    }
  }
}
