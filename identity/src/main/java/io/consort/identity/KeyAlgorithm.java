package io.consort.identity;

import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;

/**
 * Key types the consortium PKI issues and accepts, and the one signature algorithm each fixes.
 * This is the only place in Consort that maps a key to a signature algorithm: the CA signing
 * certificates and CRLs, {@link IdentitySigner}, {@link IdentityVerifier} and the privacy ledger
 * all ask it. Every type works for TLS 1.3 in the JDK 17 provider (SunJSSE); EC P-256 is the
 * default and the only one the demo uses.
 */
public enum KeyAlgorithm {
  /** ECDSA on NIST P-256 (secp256r1) with SHA-256. The default. */
  EC_P256("ec-p256", "SHA256withECDSA"),
  /** RSA with a 3072-bit modulus (about 128-bit security, NIST SP 800-57) with SHA-256. */
  RSA_3072("rsa-3072", "SHA256withRSA"),
  /**
   * Ed25519 (RFC 8032). Works for JDK TLS 1.3 and identity signatures, but Vert.x 5.0.7
   * {@code PemKeyCertOptions} cannot load Ed25519 keys, so not for the coordinator or participants.
   */
  ED25519("ed25519", "Ed25519");

  /** Smallest RSA modulus accepted in a CSR (NIST SP 800-57: 2048 bits is 112-bit security). */
  static final int MIN_RSA_BITS = 2048;

  private static final String P256_NAME = "secp256r1";

  private final String cliName;
  private final String signatureAlgorithm;

  KeyAlgorithm(String cliName, String signatureAlgorithm) {
    this.cliName = cliName;
    this.signatureAlgorithm = signatureAlgorithm;
  }

  /** The name used on the command line, e.g. {@code ec-p256}. */
  public String cliName() {
    return cliName;
  }

  /** The JCA signature algorithm used with keys of this type. */
  public String signatureAlgorithm() {
    return signatureAlgorithm;
  }

  /** Parses a command-line name such as {@code ec-p256}. */
  public static KeyAlgorithm fromCliName(String value) {
    return EnumNames.parse(KeyAlgorithm.class, KeyAlgorithm::cliName, value, "key algorithm");
  }

  /** Generates a fresh key pair with a {@link SecureRandom}. */
  public KeyPair generateKeyPair() throws GeneralSecurityException {
    SecureRandom random = new SecureRandom();
    KeyPairGenerator generator;
    switch (this) {
      case EC_P256:
        generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(P256_NAME), random);
        break;
      case RSA_3072:
        generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(3072, random);
        break;
      case ED25519:
        generator = KeyPairGenerator.getInstance("Ed25519");
        generator.initialize(255, random);
        break;
      default:
        throw new AssertionError(this);
    }
    return generator.generateKeyPair();
  }

  /**
   * Identifies the algorithm of a public or private key and checks that it is strong enough.
   * Any RSA key of at least {@value #MIN_RSA_BITS} bits maps to {@link #RSA_3072}: the signature
   * algorithm is the same.
   *
   * @throws InvalidKeyException naming the key type, curve or size that is refused
   */
  public static KeyAlgorithm of(Key key) throws InvalidKeyException {
    if (key instanceof ECKey) {
      ECParameterSpec params = ((ECKey) key).getParams();
      if (isP256(params)) {
        return EC_P256;
      }
      throw new InvalidKeyException("EC key on an unsupported curve (field size "
          + params.getCurve().getField().getFieldSize() + " bits); only P-256 is accepted");
    }
    if (key instanceof RSAKey) {
      int bits = ((RSAKey) key).getModulus().bitLength();
      if (bits < MIN_RSA_BITS) {
        throw new InvalidKeyException("RSA key of " + bits + " bits is too weak; at least "
            + MIN_RSA_BITS + " bits are required");
      }
      return RSA_3072;
    }
    if (key instanceof EdECKey) {
      String curve = ((EdECKey) key).getParams().getName();
      if ("Ed25519".equals(curve)) {
        return ED25519;
      }
      throw new InvalidKeyException("EdDSA key on " + curve + " is not supported; only Ed25519 is accepted");
    }
    throw new InvalidKeyException("unsupported key type '" + key.getAlgorithm()
        + "'; accepted: EC P-256, RSA (at least " + MIN_RSA_BITS + " bits), Ed25519");
  }

  private static boolean isP256(ECParameterSpec params) {
    ECParameterSpec p256 = P256Reference.SPEC;
    ECPoint g = params.getGenerator();
    return params.getCurve().equals(p256.getCurve())
        && g.equals(p256.getGenerator())
        && params.getOrder().equals(p256.getOrder());
  }

  /**
   * The JDK's P-256 parameters, looked up once: every signature check and signer asks {@link #of}, and
   * a provider lookup each time was measurable next to a Bouncy Castle verification.
   */
  private static final class P256Reference {
    static final ECParameterSpec SPEC = lookUp();

    private static ECParameterSpec lookUp() {
      try {
        AlgorithmParameters reference = AlgorithmParameters.getInstance("EC");
        reference.init(new ECGenParameterSpec(P256_NAME));
        return reference.getParameterSpec(ECParameterSpec.class);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JDK lacks the P-256 curve", e);
      }
    }
  }
}
