package io.consort.certs;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Reads and writes the PEM files of the consortium PKI. Every read error is a
 * {@link PemFileException} naming the file and saying what is wrong with it.
 *
 * <p>Private keys are written as unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}), the form Vert.x
 * {@code PemKeyCertOptions}, OpenSSL and the JDK all read, into a file created with mode 600 before
 * any key byte is written. Reading also accepts SEC1 ({@code BEGIN EC PRIVATE KEY}).
 */
public final class PemFiles {
  private static final String CERTIFICATE = "CERTIFICATE";
  private static final String PRIVATE_KEY = "PRIVATE KEY";
  private static final String CSR = "CERTIFICATE REQUEST";
  private static final String CRL = "X509 CRL";
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private PemFiles() {
  }

  /** Reads the first certificate of a PEM file. */
  public static X509Certificate readCertificate(Path file) throws PemFileException {
    return readCertificates(file).get(0);
  }

  /** Reads every certificate of a PEM file, in file order (a chain: leaf first). */
  public static List<X509Certificate> readCertificates(Path file) throws PemFileException {
    List<Object> objects = readObjects(file);
    List<X509Certificate> certificates = new ArrayList<>();
    for (Object object : objects) {
      if (!(object instanceof X509CertificateHolder)) {
        throw wrongType(file, "a certificate", object);
      }
      try {
        byte[] der = ((X509CertificateHolder) object).getEncoded();
        certificates.add((X509Certificate) certificateFactory().generateCertificate(
            new ByteArrayInputStream(der)));
      } catch (IOException | CertificateException e) {
        throw new PemFileException(file, "corrupt certificate: " + e.getMessage(), e);
      }
    }
    return certificates;
  }

  /** Reads a private key: PKCS#8 ({@code PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}). */
  public static PrivateKey readPrivateKey(Path file) throws PemFileException {
    Object object = readSingle(file);
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try {
      if (object instanceof PrivateKeyInfo) {
        return converter.getPrivateKey((PrivateKeyInfo) object);
      }
      if (object instanceof PEMKeyPair) {
        return converter.getPrivateKey(((PEMKeyPair) object).getPrivateKeyInfo());
      }
    } catch (PEMException e) {
      throw new PemFileException(file, "corrupt private key: " + e.getMessage(), e);
    }
    if (object instanceof PKCS8EncryptedPrivateKeyInfo
        || object instanceof PEMEncryptedKeyPair) {
      throw new PemFileException(file, "the private key is encrypted; Consort expects an unencrypted"
          + " PKCS#8 key protected by file permissions (mode 600)");
    }
    throw wrongType(file, "a private key", object);
  }

  /** Reads a PKCS#10 certificate signing request. */
  public static PKCS10CertificationRequest readCsr(Path file) throws PemFileException {
    Object object = readSingle(file);
    if (object instanceof PKCS10CertificationRequest) {
      return (PKCS10CertificationRequest) object;
    }
    throw wrongType(file, "a certificate signing request", object);
  }

  /** Reads an X.509 CRL. */
  public static X509CRL readCrl(Path file) throws PemFileException {
    Object object = readSingle(file);
    if (!(object instanceof X509CRLHolder)) {
      throw wrongType(file, "a CRL", object);
    }
    try {
      byte[] der = ((X509CRLHolder) object).getEncoded();
      return (X509CRL) certificateFactory().generateCRL(new ByteArrayInputStream(der));
    } catch (IOException | GeneralSecurityException e) {
      throw new PemFileException(file, "corrupt CRL: " + e.getMessage(), e);
    }
  }

  /** Writes certificates (a chain: leaf first) to one PEM file, replacing it atomically. */
  public static void writeCertificates(Path file, List<X509Certificate> certificates) throws IOException {
    List<PemObject> objects = new ArrayList<>();
    for (X509Certificate certificate : certificates) {
      objects.add(new PemObject(CERTIFICATE, encoded(certificate)));
    }
    writeAtomically(file, toPem(objects), false);
  }

  /** Writes one certificate to a PEM file, replacing it atomically. */
  public static void writeCertificate(Path file, X509Certificate certificate) throws IOException {
    writeCertificates(file, List.of(certificate));
  }

  /** Writes a CSR to a PEM file, replacing it atomically. */
  public static void writeCsr(Path file, PKCS10CertificationRequest csr) throws IOException {
    writeAtomically(file, toPem(List.of(new PemObject(CSR, csr.getEncoded()))), false);
  }

  /** Writes a CRL to a PEM file, replacing it atomically. */
  public static void writeCrl(Path file, X509CRL crl) throws IOException {
    try {
      writeAtomically(file, toPem(List.of(new PemObject(CRL, crl.getEncoded()))), false);
    } catch (CRLException e) {
      throw new IOException(file + ": cannot encode CRL: " + e.getMessage(), e);
    }
  }

  /**
   * Writes a private key as unencrypted PKCS#8 PEM into a new file with mode 600. Refuses to
   * overwrite an existing file, so a key is never silently replaced.
   */
  public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(file.toString(), null,
          "a private key already exists there; refusing to overwrite it");
    }
    byte[] pem = toPem(List.of(new PemObject(PRIVATE_KEY, key.getEncoded())));
    try {
      writeAtomically(file, pem, true);
    } finally {
      Arrays.fill(pem, (byte) 0);
    }
  }

  /** Creates a directory (and parents) readable only by its owner where the file system allows. */
  static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Files.createDirectories(dir);
    if (supportsPosix(dir)) {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }
  }

  private static void writeAtomically(Path file, byte[] content, boolean ownerOnly) throws IOException {
    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    Path temp;
    if (supportsPosix(dir)) {
      // Create the temporary file with its final permissions so no other user can ever read it.
      Set<PosixFilePermission> permissions = ownerOnly ? OWNER_ONLY : PosixFilePermissions.fromString("rw-r--r--");
      temp = Files.createTempFile(dir, "." + absolute.getFileName(), ".tmp",
          PosixFilePermissions.asFileAttribute(permissions));
      Files.setPosixFilePermissions(temp, permissions); // createTempFile's attribute is masked by umask
    } else {
      temp = Files.createTempFile(dir, "." + absolute.getFileName(), ".tmp");
    }
    try {
      Files.write(temp, content);
      Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static boolean supportsPosix(Path dir) throws IOException {
    return Files.getFileStore(dir).supportsFileAttributeView("posix");
  }

  private static Object readSingle(Path file) throws PemFileException {
    List<Object> objects = readObjects(file);
    if (objects.size() != 1) {
      throw new PemFileException(file, "expected one PEM object but found " + objects.size());
    }
    return objects.get(0);
  }

  private static List<Object> readObjects(Path file) throws PemFileException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new PemFileException(file, "file does not exist", e);
    } catch (AccessDeniedException e) {
      throw new PemFileException(file, "permission denied", e);
    } catch (MalformedInputException e) {
      throw new PemFileException(file, "not a PEM file (binary content; DER is not accepted)", e);
    } catch (IOException e) {
      throw new PemFileException(file, "cannot read: " + e, e);
    }
    List<Object> objects = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(text))) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        objects.add(object);
      }
    } catch (IOException | RuntimeException e) {
      throw new PemFileException(file, "corrupt PEM content: " + e.getMessage(), e);
    }
    if (objects.isEmpty()) {
      throw new PemFileException(file, "not a PEM file (no '-----BEGIN ...-----' block found)");
    }
    return objects;
  }

  private static PemFileException wrongType(Path file, String expected, Object found) {
    return new PemFileException(file, "expected " + expected + " but found " + describe(found));
  }

  private static String describe(Object object) {
    if (object instanceof X509CertificateHolder) {
      return "a certificate";
    }
    if (object instanceof PrivateKeyInfo || object instanceof PEMKeyPair) {
      return "a private key";
    }
    if (object instanceof PKCS10CertificationRequest) {
      return "a certificate signing request";
    }
    if (object instanceof X509CRLHolder) {
      return "a CRL";
    }
    if (object instanceof SubjectPublicKeyInfo) {
      return "a public key";
    }
    return object.getClass().getSimpleName();
  }

  private static byte[] encoded(X509Certificate certificate) throws IOException {
    try {
      return certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IOException("cannot encode certificate " + certificate.getSubjectX500Principal(), e);
    }
  }

  private static byte[] toPem(List<PemObject> objects) throws IOException {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      for (PemObject object : objects) {
        writer.writeObject(object);
      }
    }
    return out.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static CertificateFactory certificateFactory() {
    try {
      return CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
    }
  }
}
