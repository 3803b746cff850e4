package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class NeighbourGraphTest {

    @ParameterizedTest(name = "n={0}, k={1}")
    @CsvSource({"10, 4", "11, 4", "12, 5", "100, 20", "100, 49", "7, 2"})
    void graph_isKRegularSymmetricAndIdenticalOnBothSides(int banks, int degree) {
        RoundParameters clientView = new RoundParameters("job-g", 4, RoundHarness.banks(banks),
                (degree + 1) / 2 + 1, 32, 10, degree, false);
        RoundParameters serverView = new RoundParameters("job-g", 4, RoundHarness.banks(banks),
                (degree + 1) / 2 + 1, 32, 10, degree, false);

        NeighbourGraph atBank = NeighbourGraph.forRound(clientView);
        NeighbourGraph atCoordinator = NeighbourGraph.forRound(serverView);

        for (String bank : clientView.bankIds()) {
            Set<String> neighbours = atBank.neighboursOf(bank);
            assertEquals(degree, neighbours.size(), bank);
            assertFalse(neighbours.contains(bank));
            assertEquals(neighbours, atCoordinator.neighboursOf(bank));
            for (String neighbour : neighbours) {
                assertTrue(atBank.neighboursOf(neighbour).contains(bank), bank + " ~ " + neighbour);
            }
        }
    }

    @Test
    void graph_changesWithTheRound() {
        Map<Long, Set<String>> byRound = new HashMap<>();
        for (long round : new long[] {1, 2}) {
            RoundParameters parameters = new RoundParameters("job-g", round, RoundHarness.banks(30), 4, 32, 10, 6, false);
            byRound.put(round, NeighbourGraph.forRound(parameters).neighboursOf("bank-1"));
        }
        assertNotEquals(byRound.get(1L), byRound.get(2L));
    }

    @Test
    void parameters_refuseOddDegreeWithOddBankCountAndMinorityThreshold() {
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> new RoundParameters("job-g", 1, RoundHarness.banks(11), 3, 32, 10, 3, false));
        assertTrue(odd.getMessage().contains("banks * degree to be even"));
        IllegalArgumentException minority = assertThrows(IllegalArgumentException.class,
                () -> RoundParameters.completeGraph("job-g", 1, RoundHarness.banks(10), 5, 10));
        assertTrue(minority.getMessage().contains("threshold must be in [6, 10]"), minority.getMessage());
    }
}
