package io.consort.privacy.ledger;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;

/**
 * Fuzz target: any bytes as a ledger export offered to {@code consort audit verify}. The verifier
 * never throws: it reports a ledger as verified or names why not. Long run: docs/FUZZING.md.
 */
class LedgerFileFuzzTest {
  private static X509Certificate ca;

  private static synchronized X509Certificate ca() throws Exception {
    if (ca == null) {
      ca = new TestPki("fuzz-ca").caCertificate();
    }
    return ca;
  }

  @FuzzTest(maxDuration = "20s")
  void anyLedgerFile_isVerifiedOrRefusedByName_neverThrows(byte[] bytes) throws Exception {
    Path file = Files.createTempFile("ledger", ".json");
    try {
      Files.write(file, bytes);
      VerificationResult result = LedgerVerifier.verify(file, ca());
      if (result == null) {
        throw new AssertionError("no result");
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
