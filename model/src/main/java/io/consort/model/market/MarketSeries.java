package io.consort.model.market;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real price series: bars of one asset at one interval, oldest first. The bundled ones are the
 * data files of {@code org.ta4j:ta4j-examples:0.18} (MIT licence), copied out of the jar at build
 * time: Bitstamp BTC/USD trades from 2013-11-25 (100,000 trades, aggregated here into 5-minute
 * bars), Binance.US ETH/USD 5-minute bars of 2023-03-13 to 03-15, and Apple's daily bars of 2013.
 *
 * @param asset a short name ({@code btc-usd})
 * @param interval the bar length ({@code 5m}, {@code 1d})
 */
public record MarketSeries(String asset, String interval, List<PriceBar> bars) {
  private static final String RESOURCES = "/io/consort/model/datasets/market/";
  private static final long FIVE_MINUTES = 300;

  public MarketSeries {
    bars = List.copyOf(bars);
    for (int i = 1; i < bars.size(); i++) {
      if (bars.get(i).endEpochSecond() <= bars.get(i - 1).endEpochSecond()) {
        throw new IllegalArgumentException(asset + ": bars are not in time order at index " + i);
      }
    }
  }

  /** The three bundled series: bitcoin and ether at 5 minutes, Apple daily. */
  public static List<MarketSeries> bundled() {
    return List.of(bitcoin5m(), ether5m(), apple1d());
  }

  /** Bitstamp BTC/USD trades aggregated into 5-minute bars (close = last trade; an empty bar repeats the close). */
  public static MarketSeries bitcoin5m() {
    List<PriceBar> bars = new ArrayList<>();
    try (BufferedReader in = open("bitstamp_trades_from_20131125_usd.csv")) {
      in.readLine(); // header: timestamp,price,amount
      long bucket = -1;
      double close = 0;
      double volume = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] f = line.split(",");
        long t = Long.parseLong(f[0].strip());
        long b = t / FIVE_MINUTES;
        if (bucket >= 0 && b != bucket) {
          bars.add(new PriceBar((bucket + 1) * FIVE_MINUTES, close, volume));
          for (long gap = bucket + 1; gap < b; gap++) {
            bars.add(new PriceBar((gap + 1) * FIVE_MINUTES, close, 0));
          }
          volume = 0;
        }
        bucket = b;
        close = Double.parseDouble(f[1].strip());
        volume += Double.parseDouble(f[2].strip());
      }
      bars.add(new PriceBar((bucket + 1) * FIVE_MINUTES, close, volume));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new MarketSeries("btc-usd", "5m", bars);
  }

  /** Binance.US ETH/USD 5-minute bars. */
  public static MarketSeries ether5m() {
    StringBuilder json = new StringBuilder();
    try (BufferedReader in = open("ETH-USD-PT5M-2023-3-13_2023-3-15.json")) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        json.append(line);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Pattern bar = Pattern.compile("\"endTime\"\\s*:\\s*(\\d+).*?\"closePrice\"\\s*:\\s*([0-9.eE+-]+).*?"
        + "\"volume\"\\s*:\\s*([0-9.eE+-]+)");
    Matcher m = bar.matcher(json);
    List<PriceBar> bars = new ArrayList<>();
    while (m.find()) {
      bars.add(new PriceBar(Long.parseLong(m.group(1)) / 1000, Double.parseDouble(m.group(2)),
          Double.parseDouble(m.group(3))));
    }
    return new MarketSeries("eth-usd", "5m", bars);
  }

  /** Apple's daily bars of 2013 (close and volume). */
  public static MarketSeries apple1d() {
    List<PriceBar> bars = new ArrayList<>();
    try (BufferedReader in = open("appleinc_bars_from_20130101_usd.csv")) {
      in.readLine(); // header: date,open,high,low,close,volume
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split(",");
        long end = LocalDate.parse(f[0].strip()).plusDays(1).atStartOfDay().toEpochSecond(ZoneOffset.UTC);
        bars.add(new PriceBar(end, Double.parseDouble(f[4].strip()), Double.parseDouble(f[5].strip())));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new MarketSeries("aapl", "1d", bars);
  }

  private static BufferedReader open(String name) {
    InputStream in = MarketSeries.class.getResourceAsStream(RESOURCES + name);
    if (in == null) {
      throw new IllegalStateException("bundled market data " + name + " is missing from the class path (it is "
          + "copied out of org.ta4j:ta4j-examples at build time)");
    }
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
  }
}
