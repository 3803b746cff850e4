package io.consort.certs;

import io.consort.identity.KeyAlgorithm;
import io.consort.identity.Role;
import io.consort.identity.RoleExtension;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Builds certificates the CA would never issue, signed by a real CA key, for negative tests. */
final class TestCertificates {
  private TestCertificates() {
  }

  static PKCS10CertificationRequest csr(String cn, KeyPair keys, String signatureAlgorithm) throws Exception {
    return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), keys.getPublic())
        .build(new JcaContentSignerBuilder(signatureAlgorithm).build(keys.getPrivate()));
  }

  /**
   * An end-entity certificate with the given subject, signed by the CA in {@code caDir}, with a
   * role extension only if {@code role} is not null.
   */
  static X509Certificate issueRaw(Path caDir, String subject, Role role) throws Exception {
    return issueRaw(caDir, subject, role, KeyAlgorithm.EC_P256.generateKeyPair(), null);
  }

  /**
   * As {@link #issueRaw(Path, String, Role)}, for {@code keys} of any type, with a keyUsage
   * extension ({@link KeyUsage} bits) only if {@code keyUsage} is not null.
   */
  static X509Certificate issueRaw(Path caDir, String subject, Role role, KeyPair keys, Integer keyUsage)
      throws Exception {
    X509Certificate ca = PemFiles.readCertificate(caDir.resolve(CertificateAuthority.CERTIFICATE_FILE));
    PrivateKey caKey = PemFiles.readPrivateKey(caDir.resolve(CertificateAuthority.KEY_FILE));
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), new X500Principal(subject), keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    if (keyUsage != null) {
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
    }
    if (role != null) {
      builder.addExtension(RoleExtension.extension(role));
    }
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
  }
}
