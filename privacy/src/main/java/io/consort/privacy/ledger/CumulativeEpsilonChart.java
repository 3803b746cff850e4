package io.consort.privacy.ledger;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A self-contained SVG line chart of cumulative epsilon per bank against ledger sequence, one polyline
 * per bank, for one privacy unit. Written by hand (no library): axes with ticks, a legend, text escaped.
 */
public final class CumulativeEpsilonChart {

  private static final int WIDTH = 720;
  private static final int HEIGHT = 420;
  private static final int LEFT = 70;
  private static final int RIGHT = 170;
  private static final int TOP = 40;
  private static final int BOTTOM = 50;
  private static final String[] COLOURS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

  private CumulativeEpsilonChart() {}

  /** The SVG document for {@code unit}. Banks without DP at that unit are left out. */
  public static String svg(LedgerReport report, PrivacyUnit unit) {
    long maxSeq = 1;
    double maxEps = 0;
    for (List<LedgerReport.Row> rows : report.rowsByBank().values()) {
      for (LedgerReport.Row r : rows) {
        maxSeq = Math.max(maxSeq, r.sequence());
        Double eps = r.spend().epsilon(unit, true);
        if (eps != null) {
          maxEps = Math.max(maxEps, eps);
        }
      }
    }
    double yMax = niceCeiling(maxEps);
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\">Cumulative %s-level epsilon per "
        + "bank</text>%n", LEFT, unit.wireName()));
    // axes
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", LEFT,
        TOP + plotH, LEFT + plotW, TOP + plotH));
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", LEFT,
        TOP, LEFT, TOP + plotH));
    for (int i = 0; i <= 5; i++) {
      double v = yMax * i / 5;
      double y = TOP + plotH - plotH * (v / yMax);
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
          LEFT, y, LEFT + plotW, y));
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT - 6,
          y + 4, trim(v)));
    }
    long xStep = Math.max(1, (long) Math.ceil(maxSeq / 10.0));
    for (long s = 1; s <= maxSeq; s += xStep) {
      double x = xOf(s, maxSeq, plotW);
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x,
          TOP + plotH + 18, s));
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">ledger entry</text>%n",
        LEFT + plotW / 2, HEIGHT - 10));
    svg.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
        + "text-anchor=\"middle\">epsilon</text>%n", TOP + plotH / 2, TOP + plotH / 2));
    int index = 0;
    for (Map.Entry<String, List<LedgerReport.Row>> bank : report.rowsByBank().entrySet()) {
      List<String> points = new ArrayList<>();
      for (LedgerReport.Row r : bank.getValue()) {
        Double eps = r.spend().epsilon(unit, true);
        if (eps != null) {
          points.add(String.format(Locale.ROOT, "%.1f,%.1f", xOf(r.sequence(), maxSeq, plotW),
              TOP + plotH - plotH * (eps / yMax)));
        }
      }
      if (points.isEmpty()) {
        continue;
      }
      String colour = COLOURS[index % COLOURS.length];
      svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
          colour, String.join(" ", points)));
      int ly = TOP + 10 + 18 * index;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
          + "stroke-width=\"2\"/>%n", LEFT + plotW + 15, ly, LEFT + plotW + 35, ly, colour));
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", LEFT + plotW + 40, ly + 4,
          escape(bank.getKey())));
      index++;
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static double xOf(long sequence, long maxSeq, int plotW) {
    return maxSeq == 1 ? LEFT + plotW / 2.0 : LEFT + plotW * (sequence - 1) / (double) (maxSeq - 1);
  }

  /** Smallest of 1, 2, 5 times a power of ten at or above {@code v} (1 when there is nothing to plot). */
  static double niceCeiling(double v) {
    if (!(v > 0)) {
      return 1.0;
    }
    double power = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * power >= v) {
        return m * power;
      }
    }
    return 10 * power;
  }

  private static String trim(double v) {
    return String.format(Locale.ROOT, "%.3g", v);
  }

  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
