import io.consort.identity.IdentityVerifier;
import io.consort.identity.KeyAlgorithm;
import io.consort.secagg.crypto.X25519KeyPair;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.Arrays;
import javax.crypto.KeyAgreement;

/**
 * CPU time (this thread's, so a loaded machine stretches the wall clock but hardly the figure) per
 * identity-signature check and per X25519 agreement, Consort's (Bouncy Castle) against the JDK's
 * SunEC, interleaved in batches after a warm-up; prints the median batch of each and the ratios.
 *   java -cp bench/target/benchmarks.jar bench/scripts/IdentityCryptoCpu.java [BATCHES]
 */
public class IdentityCryptoCpu {
  interface Op { Object run() throws Exception; }

  public static void main(String[] args) throws Exception {
    int batches = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    KeyPair identity = KeyAlgorithm.EC_P256.generateKeyPair();
    byte[] message = new byte[120];
    new SecureRandom().nextBytes(message);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(identity.getPrivate());
    signer.update(message);
    byte[] signature = signer.sign();
    X25519KeyPair own = X25519KeyPair.generate(new SecureRandom());
    byte[] peer = X25519KeyPair.generate(new SecureRandom()).publicKeyBytes();
    KeyPairGenerator x = KeyPairGenerator.getInstance("X25519");
    var jdkPrivate = x.generateKeyPair().getPrivate();
    var jdkPeer = x.generateKeyPair().getPublic();
    String[] names = {"ecdsa verify consort", "ecdsa verify jdk", "x25519 consort", "x25519 jdk"};
    Op[] ops = {
        () -> IdentityVerifier.signatureValid(identity.getPublic(), message, signature),
        () -> {
          Signature v = Signature.getInstance("SHA256withECDSA");
          v.initVerify(identity.getPublic());
          v.update(message);
          return v.verify(signature);
        },
        () -> own.agree(peer),
        () -> {
          KeyAgreement a = KeyAgreement.getInstance("X25519");
          a.init(jdkPrivate);
          a.doPhase(jdkPeer, true);
          return a.generateSecret();
        }};
    int perBatch = 200;
    double[][] us = new double[ops.length][batches];
    for (int warm = 0; warm < 3; warm++) {
      for (Op op : ops) {
        for (int i = 0; i < perBatch * 5; i++) {
          op.run();
        }
      }
    }
    for (int b = 0; b < batches; b++) {
      for (int o = 0; o < ops.length; o++) {
        long start = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < perBatch; i++) {
          ops[o].run();
        }
        us[o][b] = (mx.getCurrentThreadCpuTime() - start) / 1e3 / perBatch;
      }
    }
    double[] median = new double[ops.length];
    for (int o = 0; o < ops.length; o++) {
      Arrays.sort(us[o]);
      median[o] = us[o][batches / 2];
      System.out.printf("%-22s %8.1f us CPU per operation (median of %d batches of %d)%n", names[o], median[o],
          batches, perBatch);
    }
    System.out.printf("ratio jdk / consort: ecdsa verify %.1f, x25519 %.1f%n", median[1] / median[0],
        median[3] / median[2]);
  }
}
