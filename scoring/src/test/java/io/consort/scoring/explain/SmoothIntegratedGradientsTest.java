package io.consort.scoring.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Reason codes of tanh and sigmoid networks: integrated gradients by checked Gauss-Legendre
 * quadrature ({@link PathQuadrature}). The rule is exact where it should be, the gradient it
 * integrates is the logit's, each contribution matches an independent fine Simpson rule, and the
 * contributions add up to the logit difference (completeness) on every row, for networks whose
 * units saturate mildly and sharply. Seeded: nothing is random.
 */
class SmoothIntegratedGradientsTest {
  private static final int INPUTS = 23;

  @Test
  void gaussLegendreRule_isExactForPolynomialsUpToDegree15_andNotBeyond() {
    for (int degree = 0; degree <= 2 * PathQuadrature.NODES - 1; degree++) {
      int d = degree;
      double exact = d % 2 == 1 ? 0 : 2.0 / (d + 1);
      assertEquals(exact, PathQuadrature.integrateOnUnitInterval(t -> Math.pow(t, d)), 1e-14, "t^" + d);
    }
    int beyond = 2 * PathQuadrature.NODES;
    assertTrue(Math.abs(2.0 / (beyond + 1) - PathQuadrature.integrateOnUnitInterval(t -> Math.pow(t, beyond)))
        > 1e-6, "an 8-node rule cannot integrate t^16 exactly");
  }

  @ParameterizedTest
  @EnumSource(value = HiddenActivation.class, names = {"TANH", "SIGMOID"})
  void gradientInDouble_isTheLogitsDerivative_byCentralDifferences(HiddenActivation activation) {
    InferenceNetwork network = network(activation, 1);
    float[] x = DenseNetworksAgainstDl4jTest.rows(1, 3).x();
    double[] point = new double[INPUTS];
    for (int i = 0; i < INPUTS; i++) {
      point[i] = x[i];
    }
    double[] gradient = new double[INPUTS];
    network.gradientInDouble(point, gradient);
    double h = 1e-5;
    for (int i = 0; i < INPUTS; i++) {
      double[] up = point.clone();
      double[] down = point.clone();
      up[i] += h;
      down[i] -= h;
      double numeric = (network.logitInDouble(up) - network.logitInDouble(down)) / (2 * h);
      // central differences are accurate to O(h^2 f''') ~ 1e-9 here, plus rounding 1e-16 / h
      assertEquals(numeric, gradient[i], 1e-7 * Math.max(1, Math.abs(numeric)), "input " + i);
    }
  }

  @ParameterizedTest
  @EnumSource(value = HiddenActivation.class, names = {"TANH", "SIGMOID"})
  void eachIntegral_matchesAnIndependentFineSimpsonRule(HiddenActivation activation) {
    InferenceNetwork network = network(activation, 3);
    EncodedData rows = DenseNetworksAgainstDl4jTest.rows(5, 29);
    float[] from = new float[INPUTS];
    for (int r = 0; r < rows.rows(); r++) {
      float[] to = Arrays.copyOfRange(rows.x(), r * INPUTS, (r + 1) * INPUTS);
      double[] quadrature = network.pathIntegral(from, to).gradient();
      double[] simpson = simpson(network, from, to, 1 << 13);
      for (int i = 0; i < INPUTS; i++) {
        double d = (double) to[i] - from[i];
        // Simpson's error with 8,192 intervals is O(h^4) ~ 1e-15 times the fourth derivative, far
        // below the quadrature's 1e-8 per contribution
        assertEquals(simpson[i] * d, quadrature[i] * d, 2e-8, "row " + r + ", input " + i);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = HiddenActivation.class, names = {"TANH", "SIGMOID"})
  void contributions_addUpToTheLogitDifference_onEveryRow_evenWhenUnitsSaturateSharply(
      HiddenActivation activation) {
    FeatureEncoding encoding = numericEncoding();
    EncodedData rows = DenseNetworksAgainstDl4jTest.rows(300, 41);
    List<Integer> panels = new ArrayList<>();
    for (double scale : new double[] {1, 3, 10}) {
      InferenceNetwork network = network(activation, scale);
      assertFalse(network.isPiecewiseLinear());
      Attributor attributor = new Attributor(network, encoding);
      double worstDouble = 0;
      int mostPanels = 0;
      for (int r = 0; r < rows.rows(); r++) {
        float[] x = Arrays.copyOfRange(rows.x(), r * INPUTS, (r + 1) * INPUTS);
        float logit = network.logit(x);
        Attribution a = attributor.explain(x, logit);
        double sum = Arrays.stream(a.perColumn()).sum();
        assertTrue(a.residual() <= Attributor.COMPLETENESS_TOLERANCE, "scale " + scale + ", row " + r
            + ": the contributions miss the float logit difference by " + a.residual());
        double exact = network.logitInDouble(x) - network.logitInDouble(attributor.reference());
        double gap = Math.abs(sum - exact);
        assertTrue(gap <= PathQuadrature.COMPLETENESS_TOLERANCE, "scale " + scale + ", row " + r
            + ": the contributions miss the double-precision logit difference by " + gap);
        worstDouble = Math.max(worstDouble, gap);
        mostPanels = Math.max(mostPanels, a.pieces());
      }
      panels.add(mostPanels);
      System.out.printf("%s weights x%.0f: worst completeness gap %.2e logits (double), at most %d panels%n",
          activation, scale, worstDouble, mostPanels);
    }
    assertTrue(panels.get(2) > panels.get(0), "sharper saturation needs more panels: " + panels);
  }

  @Test
  void anIntegralThatCannotReachItsToleranceWithinItsBudget_isRefused_notReturnedInaccurate() {
    InferenceNetwork network = network(HiddenActivation.TANH, 10);
    float[] x = Arrays.copyOfRange(DenseNetworksAgainstDl4jTest.rows(1, 7).x(), 0, INPUTS);
    // the full budget integrates this path; 24 gradients (one panel and its halves) do not
    assertTrue(network.pathIntegral(new float[INPUTS], x).pieces() > 2);
    UnfaithfulExplanationException e = org.junit.jupiter.api.Assertions.assertThrows(
        UnfaithfulExplanationException.class,
        () -> PathQuadrature.integrate(network, new float[INPUTS], x, 3 * PathQuadrature.NODES));
    assertTrue(e.getMessage().startsWith("integrated gradients need more than 24 gradients on this path"),
        e.getMessage());
  }

  @Test
  void reluNetworks_withOrWithoutDropout_areWalkedExactly() {
    for (double dropout : new double[] {0, 0.3}) {
      ModelSpec spec = new ModelSpec(ModelType.MLP, List.of(16, 8), 32, 0.01, 0, 5, HiddenActivation.RELU, dropout,
          Objective.BINARY, Optional.empty());
      InferenceNetwork network = new InferenceNetwork(spec, INPUTS,
          DenseNetworksAgainstDl4jTest.scaledParameters(spec, 3));
      assertTrue(network.isPiecewiseLinear());
      float[] x = Arrays.copyOfRange(DenseNetworksAgainstDl4jTest.rows(1, 5).x(), 0, INPUTS);
      double[] integral = network.pathIntegral(new float[INPUTS], x).gradient();
      double sum = 0;
      for (int i = 0; i < INPUTS; i++) {
        sum += x[i] * integral[i];
      }
      double exact = network.logitInDouble(x) - network.logitInDouble(new float[INPUTS]);
      assertEquals(exact, sum, 1e-9 * Math.max(1, Math.abs(exact)));
    }
  }

  private static InferenceNetwork network(HiddenActivation activation, double scale) {
    ModelSpec spec = new ModelSpec(ModelType.MLP, List.of(64, 32), 32, 0.01, 0, 5, activation, 0.2,
        Objective.BINARY, Optional.empty());
    return new InferenceNetwork(spec, INPUTS, DenseNetworksAgainstDl4jTest.scaledParameters(spec, scale));
  }

  /** Composite Simpson on {@code intervals} (even) of the input gradient along the path. */
  private static double[] simpson(InferenceNetwork network, float[] from, float[] to, int intervals) {
    double[] total = new double[INPUTS];
    double[] point = new double[INPUTS];
    double[] gradient = new double[INPUTS];
    for (int k = 0; k <= intervals; k++) {
      double alpha = (double) k / intervals;
      for (int i = 0; i < INPUTS; i++) {
        point[i] = from[i] + alpha * ((double) to[i] - from[i]);
      }
      network.gradientInDouble(point, gradient);
      double w = (k == 0 || k == intervals ? 1 : k % 2 == 1 ? 4 : 2) / (3.0 * intervals);
      for (int i = 0; i < INPUTS; i++) {
        total[i] += w * gradient[i];
      }
    }
    return total;
  }

  /** 23 numeric columns, standardised already: the reference applicant is the origin. */
  private static FeatureEncoding numericEncoding() {
    List<String> columns = new ArrayList<>();
    for (int i = 0; i < INPUTS; i++) {
      columns.add("x" + i);
    }
    double[] means = new double[INPUTS];
    double[] stds = new double[INPUTS];
    Arrays.fill(stds, 1);
    return new FeatureEncoding(new DataSchema(columns, List.of(), "y", "1"), means, stds, List.of());
  }
}
