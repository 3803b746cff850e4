package io.consort.cli.demo;

import io.consort.model.data.DataSchema;
import io.consort.model.market.MarketSeries;
import io.consort.model.market.MarketWindows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The market task's data: windows of the bundled price series ({@link MarketSeries#bundled()}),
 * divided among the banks by period (each bank holds one contiguous stretch of every asset, bank 1 the
 * oldest) or by asset (bank i holds asset i whole; as many banks as assets). Written as one CSV per
 * bank plus the union, with the schema every bank declares: numeric {@code r0..v(W-1)}, label
 * {@code up}, positive class {@code 1} (direction), or label {@code next_return}, numeric (return).
 */
final class MarketBanks {
  /** How the series are divided. */
  enum Split {
    PERIOD, ASSET;

    String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  record Data(DataSchema schema, Path allRows, List<Path> bankFiles, List<String> description) {}

  private MarketBanks() {}

  static DataSchema schema(int window) {
    return new DataSchema(MarketWindows.featureColumns(window), List.of(), "up", "1");
  }

  /**
   * The label bound of the return target, in units of the asset's median absolute return: it clips the few
   * extreme intervals (crashes, squeezes) so that no one window moves the mean squared error, the DP-SGD
   * gradients' clipping aside, or the evaluation's sums by more than the bound allows.
   */
  static final double RETURN_BOUND = 20;

  /** The schema of the return target: the same features, label {@code next_return} clipped to {@link #RETURN_BOUND}. */
  static DataSchema returnSchema(int window) {
    return DataSchema.numericLabel(MarketWindows.featureColumns(window), List.of(), "next_return", RETURN_BOUND,
        io.consort.model.data.Preprocessing.NONE);
  }

  /**
   * @throws IllegalArgumentException when the window does not fit a series, or a by-asset split asks for
   *     another number of banks than there are assets
   */
  static Data write(Path dir, int banks, int window, Split split) throws IOException {
    List<MarketSeries> series = MarketSeries.bundled();
    if (split == Split.ASSET && banks != series.size()) {
      throw new IllegalArgumentException("--market-split asset gives each bank one asset: --banks must be "
          + series.size() + " (" + series.stream().map(MarketSeries::asset).toList() + "), got " + banks);
    }
    Files.createDirectories(dir);
    List<List<MarketWindows.Window>> perBank = new ArrayList<>();
    for (int b = 0; b < banks; b++) {
      perBank.add(new ArrayList<>());
    }
    List<MarketWindows.Window> all = new ArrayList<>();
    List<String> description = new ArrayList<>();
    for (int a = 0; a < series.size(); a++) {
      MarketSeries s = series.get(a);
      List<MarketWindows.Window> windows = MarketWindows.of(s, window);
      all.addAll(windows);
      description.add(String.format(Locale.ROOT, "%s %s bars: %d windows", s.asset(), s.interval(), windows.size()));
      if (split == Split.ASSET) {
        perBank.get(a).addAll(windows);
      } else {
        for (int b = 0; b < banks; b++) {
          perBank.get(b).addAll(windows.subList(windows.size() * b / banks, windows.size() * (b + 1) / banks));
        }
      }
    }
    Path allRows = dir.resolve("market-windows.csv");
    MarketWindows.writeCsv(all, window, allRows);
    List<Path> files = new ArrayList<>();
    for (int b = 0; b < banks; b++) {
      Path f = dir.resolve("market-bank-" + (b + 1) + ".csv");
      MarketWindows.writeCsv(perBank.get(b), window, f);
      files.add(f);
    }
    return new Data(schema(window), allRows, files, description);
  }
}
