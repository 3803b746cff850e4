package io.consort.secagg.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Whole secure-aggregation rounds for a simulated consortium, with the measurements the bench reports. */
@Tag("e2e")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SecAggSimulationTest {
    @Test
    void run_recoversTheExactSum_andReportsPlausibleMeasurements() throws Exception {
        SecAggSimulation.Report report = SecAggSimulation.run(SecAggSimulation.Settings.of(6, 20_000, 0.3, 0));

        assertTrue(report.sumCorrect());
        assertEquals(2, report.droppedBanks()); // round(0.3 * 6)
        assertEquals(4, report.threshold());
        assertTrue(report.expansion() > 1.0 && report.expansion() < 1.2, "expansion " + report.expansion());
        assertTrue(report.maskBytesPerSecond() > 0 && report.aesCtrBytesPerSecond() > 0);
        assertTrue(report.toJson().contains("\"mask_bytes_per_second\""));
    }

    @Test
    void run_worksWithSecAggPlusGraph() throws Exception {
        SecAggSimulation.Report report = SecAggSimulation.run(SecAggSimulation.Settings.of(12, 1000, 0.0, 4));
        assertTrue(report.sumCorrect());
        assertTrue(!report.completeGraph());
    }
}
