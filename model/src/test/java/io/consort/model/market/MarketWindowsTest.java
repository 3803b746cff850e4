package io.consort.model.market;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MarketWindowsTest {

  @Test
  void bundledSeries_loadWithTheirKnownLengthsAndPrices() {
    MarketSeries apple = MarketSeries.apple1d();
    assertEquals(252, apple.bars().size());
    assertEquals(549.03, apple.bars().get(0).close(), 1e-9); // 2013-01-02 close in the file
    MarketSeries ether = MarketSeries.ether5m();
    assertTrue(ether.bars().size() > 500, "ETH 5-minute bars over two days: " + ether.bars().size());
    assertEquals(1672.99, ether.bars().get(0).close(), 1e-9);
    MarketSeries bitcoin = MarketSeries.bitcoin5m();
    // 2013-11-25 00:00 to 2013-12-01 ~16:15 UTC in 5-minute bars, gaps filled
    long span = bitcoin.bars().get(bitcoin.bars().size() - 1).endEpochSecond() - bitcoin.bars().get(0).endEpochSecond();
    assertEquals(span / 300 + 1, bitcoin.bars().size());
    assertEquals(999.0, bitcoin.bars().get(bitcoin.bars().size() - 1).close(), 1e-9);
  }

  @Test
  void windows_holdScaledReturnsAndRelativeVolumes_andTheNextDirection() {
    MarketSeries s = new MarketSeries("x", "1d", List.of(new PriceBar(1, 100, 10), new PriceBar(2, 110, 20),
        new PriceBar(3, 99, 30), new PriceBar(4, 99, 40), new PriceBar(5, 120, 50)));
    List<MarketWindows.Window> w = MarketWindows.of(s, 2);
    assertEquals(2, w.size());
    // returns: ln 1.1, ln 0.9, 0, ln(120/99); median |r| of the four
    double[] r = {Math.log(1.1), Math.log(0.9), 0, Math.log(120.0 / 99)};
    double scale = Math.abs(r[1]); // sorted |r|: 0, 0.0953, 0.1054, 0.1924; the median (index 2) is |ln 0.9|
    assertEquals(r[0] / scale, w.get(0).features()[0], 1e-6);
    assertEquals(r[1] / scale, w.get(0).features()[1], 1e-6);
    double v1 = Math.log1p(20);
    double v2 = Math.log1p(30);
    assertEquals(v1 - (v1 + v2) / 2, w.get(0).features()[2], 1e-6);
    assertTrue(!w.get(0).up(), "the return after bar 3 is 0: not up");
    assertTrue(w.get(1).up());
    assertEquals(r[3] / scale, w.get(1).nextReturn(), 1e-9);
  }

  @Test
  void aWindowLongerThanTheSeries_isRefusedNamingTheSeries() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MarketWindows.of(MarketSeries.apple1d(), 251));
    assertTrue(e.getMessage().contains("window 251 is longer than the series aapl allows: it has 252 bars"),
        e.getMessage());
  }
}
