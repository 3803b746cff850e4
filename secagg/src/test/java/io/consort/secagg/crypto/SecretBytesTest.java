package io.consort.secagg.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SecretBytesTest {
    @Test
    void toString_revealsOnlyTheLength() {
        SecretBytes secret = SecretBytes.copyOf(new byte[] {0x41, 0x42, 0x43});
        assertEquals("SecretBytes[3 bytes, redacted]", secret.toString());
    }

    @Test
    void equality_comparesContent_andDestroyedSecretsCannotBeRead() {
        SecretBytes a = SecretBytes.copyOf(new byte[] {1, 2, 3});
        SecretBytes b = SecretBytes.copyOf(new byte[] {1, 2, 3});
        SecretBytes c = SecretBytes.copyOf(new byte[] {1, 2, 4});
        assertTrue(a.equalsConstantTime(b));
        assertEquals(a, b);
        assertNotEquals(a, c);
        assertFalse(a.equalsConstantTime(c));
        a.destroy();
        IllegalStateException error = assertThrows(IllegalStateException.class, a::toByteArray);
        assertTrue(error.getMessage().contains("destroyed"));
    }

    @Test
    void copyOf_refusesEmptyInput() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> SecretBytes.copyOf(new byte[0]));
        assertTrue(error.getMessage().contains("0 bytes"));
    }
}
