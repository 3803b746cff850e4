package io.consort.model.market;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Examples for market prediction: for each time t with a full window before it and a bar after
 * it, the features are the window's {@code W} scaled log returns {@code r0..r(W-1)} (oldest first)
 * and its {@code W} relative log volumes {@code v0..v(W-1)} (channel-major, as sequence models read
 * a row), the targets the next interval's log return (regression) and its direction (up = 1 when
 * it is > 0).
 *
 * <p>Scaling, so that assets of different volatility and volume share a model: returns are divided
 * by the series' median absolute return (a single scale constant per asset, computed over the whole
 * series: a mild look-ahead of a scale, not of any value), volumes are {@code log(1 + volume)} minus
 * that window's mean of it (no look-ahead).
 */
public final class MarketWindows {
  private MarketWindows() {}

  /** One example. */
  public record Window(String asset, long endEpochSecond, float[] features, double nextReturn) {
    public boolean up() {
      return nextReturn > 0;
    }
  }

  /**
   * Every window of {@code series}.
   *
   * @throws IllegalArgumentException when the window does not fit the series: it needs {@code window + 2}
   *     bars (one before the first return, one after the window)
   */
  public static List<Window> of(MarketSeries series, int window) {
    int bars = series.bars().size();
    if (window < 1 || window + 2 > bars) {
      throw new IllegalArgumentException("window " + window + " is longer than the series " + series.asset()
          + " allows: it has " + bars + " bars, and a window needs window + 2 (returns need the bar before, the "
          + "target the bar after)");
    }
    double[] returns = new double[bars];
    double[] volumes = new double[bars];
    for (int i = 0; i < bars; i++) {
      PriceBar b = series.bars().get(i);
      returns[i] = i == 0 ? 0 : Math.log(b.close() / series.bars().get(i - 1).close());
      volumes[i] = Math.log1p(b.volume());
    }
    double scale = medianAbsolute(Arrays.copyOfRange(returns, 1, bars));
    if (!(scale > 0)) {
      scale = 1;
    }
    List<Window> out = new ArrayList<>();
    for (int t = window; t + 1 < bars; t++) {
      float[] features = new float[2 * window];
      double meanVolume = 0;
      for (int k = 0; k < window; k++) {
        meanVolume += volumes[t - window + 1 + k];
      }
      meanVolume /= window;
      for (int k = 0; k < window; k++) {
        int i = t - window + 1 + k;
        features[k] = (float) (returns[i] / scale);
        features[window + k] = (float) (volumes[i] - meanVolume);
      }
      out.add(new Window(series.asset(), series.bars().get(t).endEpochSecond(), features, returns[t + 1] / scale));
    }
    return out;
  }

  /** The numeric feature columns of a window: {@code r0..r(W-1), v0..v(W-1)}. */
  public static List<String> featureColumns(int window) {
    List<String> names = new ArrayList<>();
    for (int k = 0; k < window; k++) {
      names.add("r" + k);
    }
    for (int k = 0; k < window; k++) {
      names.add("v" + k);
    }
    return names;
  }

  /** Writes windows as CSV: the feature columns, {@code up} (1 or 0) and {@code next_return} (scaled). */
  public static void writeCsv(List<Window> windows, int window, Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(String.join(",", featureColumns(window)) + ",up,next_return\n");
      StringBuilder line = new StringBuilder();
      for (Window x : windows) {
        line.setLength(0);
        for (float f : x.features()) {
          line.append(String.format(Locale.ROOT, "%.6g", f)).append(',');
        }
        line.append(x.up() ? '1' : '0').append(',').append(String.format(Locale.ROOT, "%.6g", x.nextReturn()))
            .append('\n');
        w.write(line.toString());
      }
    }
  }

  private static double medianAbsolute(double[] values) {
    double[] a = new double[values.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = Math.abs(values[i]);
    }
    Arrays.sort(a);
    return a.length == 0 ? 0 : a[a.length / 2];
  }
}
