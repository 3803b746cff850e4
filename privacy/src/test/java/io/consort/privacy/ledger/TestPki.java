package io.consort.privacy.ledger;

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

/** A throwaway consortium PKI for tests: an EC P-256 CA and identities with CN = name, OU = role. */
final class TestPki {

  /** A key and its certificate. */
  record Identity(PrivateKey key, X509Certificate certificate) {}

  private static final AtomicLong SERIAL = new AtomicLong(1000);

  private final KeyPair caKeys;
  private final X509Certificate caCertificate;

  TestPki(String caName) throws Exception {
    caKeys = ecKeys();
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

  Identity issue(String commonName, String role) throws Exception {
    KeyPair keys = ecKeys();
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCertificate, serial(), from(), to(),
        new X500Name("CN=" + commonName + ",OU=" + role + ",O=Consort test"), keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    return new Identity(keys.getPrivate(), sign(builder));
  }

  private X509Certificate sign(JcaX509v3CertificateBuilder builder) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
  }

  private static KeyPair ecKeys() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
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
