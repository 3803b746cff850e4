package io.consort.privacy.ledger;

import io.consort.identity.Role;
import io.consort.identity.RoleExtension;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway consortium PKI for tests: an EC P-256 CA and identities as the consortium CA issues
 * them (CN = name, OU = role, the role extension naming the same role), plus forgeries the real CA
 * would never issue, signed by this same CA key, for attack tests.
 */
final class TestPki {

  /** A key and its certificate. */
  record Identity(PrivateKey key, X509Certificate certificate) {}

  private static final AtomicLong SERIAL = new AtomicLong(1000);

  private final KeyPair caKeys;
  private final X509Certificate caCertificate;

  TestPki(String caName) throws Exception {
    caKeys = keys("EC", "secp256r1");
    X500Name name = new X500Name("CN=" + caName + ",O=Consort test");
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), from(), to(), name,
        caKeys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    caCertificate = sign(builder);
  }

  X509Certificate caCertificate() {
    return caCertificate;
  }

  /** An identity as the consortium CA issues it: OU and role extension both name {@code role}. */
  Identity issue(String commonName, String role) throws Exception {
    return forge(commonName, role, Role.fromWireName(role), keys("EC", "secp256r1"));
  }

  /**
   * A certificate the consortium CA would never issue, signed by this CA's real key.
   *
   * @param organizationalUnit the subject OU, or null for none
   * @param extensionRole the role in the role extension, or null to leave the extension out
   * @param keys the member's key pair (any type, to forge unsupported keys too)
   */
  Identity forge(String commonName, String organizationalUnit, Role extensionRole, KeyPair keys) throws Exception {
    X500Name subject = new X500Name("CN=" + commonName
        + (organizationalUnit == null ? "" : ",OU=" + organizationalUnit) + ",O=Consort test");
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCertificate, serial(), from(), to(),
        subject, keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    if (extensionRole != null) {
      builder.addExtension(RoleExtension.extension(extensionRole));
    }
    return new Identity(keys.getPrivate(), sign(builder));
  }

  /** A key pair of the given JCA type on the given curve ("secp384r1") or of the given size ("1024"). */
  static KeyPair keys(String type, String parameter) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(type);
    if (type.equals("EC")) {
      generator.initialize(new ECGenParameterSpec(parameter));
    } else {
      generator.initialize(Integer.parseInt(parameter));
    }
    return generator.generateKeyPair();
  }

  private X509Certificate sign(JcaX509v3CertificateBuilder builder) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIAL.incrementAndGet());
  }

  private static Date from() {
    return Date.from(Instant.now().minus(Duration.ofDays(1)));
  }

  private static Date to() {
    return Date.from(Instant.now().plus(Duration.ofDays(365)));
  }
}
