package io.consort.secagg;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Unambiguous byte strings for everything that is signed, authenticated or fed to HKDF: a domain
 * label, then length-prefixed fields. Distinct labels keep a signature or key made for one purpose
 * from being valid for another.
 */
final class ContextEncoding {
  /**
   * Per-round key advertisements (protocol version 7: the job's plan digest is signed with them; the v1 label, which
   * signed no plan, is no longer accepted).
   */
  static final String ADVERTISE_LABEL = "consort-secagg/v7 advertise-keys";
  static final String CONSISTENCY_LABEL = "consort-secagg/v1 consistency-check";
  static final String SHARE_AAD_LABEL = "consort-secagg/v1 share-ciphertext";
  static final String SHARE_KEY_LABEL = "consort-secagg/v1 share-encryption-key";
  static final String PAIRWISE_MASK_LABEL = "consort-secagg/v1 pairwise-mask-seed";
  static final String ROUND_SALT_LABEL = "consort-secagg/v1 round-salt";
  static final String GRAPH_SEED_LABEL = "consort-secagg/v1 neighbour-graph";
  /**
   * Keys for a period of rounds (protocol version 6; since 7 with the job's plan digest, under this new label): a label
   * no per-round advertisement carries.
   */
  static final String PERIOD_ADVERTISE_LABEL = "consort-secagg/v7 period-keys";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream(128);

  private ContextEncoding(String label) {
    text(label);
  }

  static ContextEncoding labelled(String label) {
    return new ContextEncoding(label);
  }

  ContextEncoding text(String value) {
    return bytes(value.getBytes(StandardCharsets.UTF_8));
  }

  ContextEncoding bytes(byte[] value) {
    number(value.length);
    out.writeBytes(value);
    return this;
  }

  ContextEncoding number(long value) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.write((int) (value >>> shift));
    }
    return this;
  }

  ContextEncoding texts(List<String> values) {
    number(values.size());
    values.forEach(this::text);
    return this;
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }

  /**
   * What a bank signs in advertise-keys: job, the digest of the job's secure-aggregation plan ({@link
   * RoundParameters#planDigest}), round, its id and both public keys. The plan digest makes keys signed under one plan
   * (another unmasking mode, self mask, key_rounds, threshold...) invalid in a sum of any other.
   */
  static byte[] advertisedKeys(String jobId, String planDigest, long round, String bankId, byte[] encryptionKey,
                               byte[] maskingKey) {
    return labelled(ADVERTISE_LABEL).text(jobId).text(planDigest).number(round).text(bankId)
        .bytes(encryptionKey).bytes(maskingKey).toByteArray();
  }

  /**
   * What a bank signs once for a period of rounds ({@link KeyPeriod}): job, plan digest ({@link
   * RoundParameters#planDigest}), period index, the rounds a period spans, its id and both public keys, under a label
   * of its own, so it is never valid as a per-round advertisement ({@link #advertisedKeys}) nor the other way round,
   * nor for another job, plan, period or period length.
   */
  static byte[] periodKeys(String jobId, String planDigest, KeyPeriod period, String bankId, byte[] encryptionKey,
                           byte[] maskingKey) {
    return labelled(PERIOD_ADVERTISE_LABEL).text(jobId).text(planDigest).number(period.index()).number(period.rounds())
        .text(bankId).bytes(encryptionKey).bytes(maskingKey).toByteArray();
  }

  /** What a bank signs in consistency-check: job, round, its id and the survivor set. */
  static byte[] survivorSet(String jobId, long round, String bankId, List<String> survivors) {
    return labelled(CONSISTENCY_LABEL).text(jobId).number(round).text(bankId).texts(survivors).toByteArray();
  }

  /** AES-GCM associated data of a share ciphertext. */
  static byte[] shareAssociatedData(String jobId, long round, String senderId, String recipientId) {
    return labelled(SHARE_AAD_LABEL).text(jobId).number(round).text(senderId).text(recipientId).toByteArray();
  }

  /** HKDF info for the directional share-encryption key sender -> recipient. */
  static byte[] shareKeyInfo(String senderId, String recipientId) {
    return labelled(SHARE_KEY_LABEL).text(senderId).text(recipientId).toByteArray();
  }

  /**
   * HKDF info for the pairwise mask seed; ids in roster order so both ends derive the same seed, then the digest of
   * the base model each end computed its input from (protocol version 8, {@link ModelDigest}): two ends on different
   * models derive different seeds, and their masks do not cancel.
   */
  static byte[] pairwiseMaskInfo(String lowerId, String higherId, ModelDigest model) {
    return labelled(PAIRWISE_MASK_LABEL).text(lowerId).text(higherId).bytes(model.bytes()).toByteArray();
  }

  /** HKDF salt binding every derived key to the job and round. */
  static byte[] roundSalt(String jobId, long round) {
    return labelled(ROUND_SALT_LABEL).text(jobId).number(round).toByteArray();
  }

  static byte[] graphSeedInput(String jobId, long round) {
    return labelled(GRAPH_SEED_LABEL).text(jobId).number(round).toByteArray();
  }
}
