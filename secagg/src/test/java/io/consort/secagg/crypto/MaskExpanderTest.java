package io.consort.secagg.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class MaskExpanderTest {

    @Test
    void mask_matchesAes256Ctr_knownAnswer() throws Exception {
        // AES-256 of the zero block under the zero key is dc95c078 a2408989 ad48a214 92842087 (FIPS-197
        // style known answer); as little-endian words: 0x78c095dc, 0x898940a2, ...
        int[] target = new int[4];
        new MaskExpander().addMask(SecretBytes.copyOf(new byte[32]), target);
        assertArrayEquals(new int[] {0x78c095dc, 0x898940a2, 0x14a248ad, 0x87208492}, target);
    }

    @Test
    void mask_equalsOneShotAesCtrKeystream_acrossChunkBoundaries() throws Exception {
        byte[] key = new byte[32];
        Arrays.fill(key, (byte) 7);
        int words = MaskExpander.CHUNK_BYTES / 4 * 2 + 3; // two full chunks and a partial one
        Cipher cipher = Cipher.getInstance("AES/CTR/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
        int[] expected = new int[words];
        ByteBuffer.wrap(cipher.doFinal(new byte[words * 4])).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(expected);

        int[] target = new int[words];
        new MaskExpander().addMask(SecretBytes.copyOf(key), target);

        assertArrayEquals(expected, target);
    }

    @Test
    void subtractMask_undoesAddMask_modulo2To32() throws Exception {
        int[] original = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
        int[] target = original.clone();
        byte[] seed = new byte[32];
        seed[0] = 1;
        MaskExpander expander = new MaskExpander();
        expander.addMask(SecretBytes.copyOf(seed), target);
        assertFalse(Arrays.equals(original, target));
        expander.subtractMask(SecretBytes.copyOf(seed), target);
        assertArrayEquals(original, target);
        assertEquals(5, target.length);
    }

    @Test
    void applyMasks_equalsAddingAndSubtractingEachMaskInTurn_acrossChunkBoundaries() throws Exception {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7); // seeded: test data only
        int chunk = MaskExpander.CHUNK_BYTES / 4;
        for (int words : new int[] {1, 6209, chunk, chunk + 1, 3 * chunk + 5}) {
            java.util.List<SecretBytes> seeds = new java.util.ArrayList<>();
            boolean[] subtract = new boolean[5];
            for (int j = 0; j < subtract.length; j++) {
                byte[] seed = new byte[32];
                random.nextBytes(seed);
                seeds.add(SecretBytes.copyOf(seed));
                subtract[j] = j % 2 == 1;
            }
            int[] expected = random.ints(words).toArray();
            int[] target = expected.clone();
            MaskExpander oneByOne = new MaskExpander();
            for (int j = 0; j < subtract.length; j++) {
                if (subtract[j]) {
                    oneByOne.subtractMask(seeds.get(j), expected);
                } else {
                    oneByOne.addMask(seeds.get(j), expected);
                }
            }

            new MaskExpander().applyMasks(seeds, subtract, target);

            assertArrayEquals(expected, target, "dimension " + words);
        }
    }
}
