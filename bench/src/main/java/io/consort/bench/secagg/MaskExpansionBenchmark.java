package io.consort.bench.secagg;

import io.consort.secagg.crypto.MaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The secure-aggregation PRG ({@link MaskExpander}: AES-256-CTR keystream added into an int vector)
 * against the baseline it is built on, raw JDK AES-CTR keystream in 64 KiB chunks, in the same run.
 * One operation processes {@code words} 32-bit words (4 * words bytes) in both benchmarks, so
 * bytes/s = ops/s * 4 * words and the ratio of the two scores is the mask-to-keystream ratio
 * (goal >= 0.5).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MaskExpansionBenchmark {
  /** Vector length in 32-bit words: 10^5 and 10^6 model updates. */
  @Param({"100000", "1000000"})
  public int words;

  private MaskExpander expander;
  private SecretBytes seed;
  private int[] target;
  private Cipher cipher;
  private SecretKeySpec key;
  private byte[] zeros;
  private byte[] keystream;

  @Setup
  public void setUp() throws GeneralSecurityException {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    seed = SecretBytes.copyOf(raw);
    key = new SecretKeySpec(raw, "AES");
    expander = new MaskExpander();
    target = new int[words];
    cipher = Cipher.getInstance("AES/CTR/NoPadding");
    zeros = new byte[MaskExpander.CHUNK_BYTES];
    keystream = new byte[MaskExpander.CHUNK_BYTES];
  }

  @Benchmark
  public int[] maskExpansion() throws GeneralSecurityException {
    expander.addMask(seed, target);
    return target;
  }

  @Benchmark
  public void aesCtrKeystream(Blackhole blackhole) throws GeneralSecurityException {
    cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(new byte[16]));
    int bytes = words * Integer.BYTES;
    for (int offset = 0; offset < bytes; offset += MaskExpander.CHUNK_BYTES) {
      int length = Math.min(MaskExpander.CHUNK_BYTES, bytes - offset);
      cipher.update(zeros, 0, length, keystream, 0);
    }
    blackhole.consume(keystream);
  }
}
