package io.consort.privacy.accounting;

/** How an RDP guarantee (alpha, rdp) is turned into (epsilon, delta)-DP. */
public enum EpsilonConversion {

  /**
   * eps = rdp + log(1/delta) / (alpha - 1) (Mironov 2017, Proposition 3). Used by TensorFlow Privacy's
   * published MNIST table; kept so those figures can be reproduced.
   */
  CLASSIC {
    @Override
    public double epsilon(double order, double rdp, double delta) {
      return rdp - Math.log(delta) / (order - 1.0);
    }
  },

  /**
   * eps = rdp + log((alpha-1)/alpha) - (log delta + log alpha) / (alpha - 1) (Canonne, Kamath, Steinke
   * 2020, Proposition 12; Balle et al. 2020, Theorem 21; TensorFlow Privacy's current
   * {@code get_privacy_spent}). Never larger than {@link #CLASSIC} for alpha > 1; Consort's default.
   * For alpha <= 1.01 the bound's log alpha / (alpha-1) term is ill-conditioned and TF Privacy returns
   * infinity there; so do we. When delta^2 + expm1(-rdp) >= 0 the KL bound delta <= sqrt(1 - exp(-rdp))
   * already gives epsilon 0 (TF Privacy, same function).
   */
  IMPROVED {
    @Override
    public double epsilon(double order, double rdp, double delta) {
      if (delta * delta + Math.expm1(-rdp) >= 0) {
        return 0.0;
      }
      if (order <= 1.01) {
        return Double.POSITIVE_INFINITY;
      }
      return rdp + Math.log1p(-1.0 / order) - Math.log(delta * order) / (order - 1.0);
    }
  };

  /** epsilon for delta given an RDP value at one order. */
  public abstract double epsilon(double order, double rdp, double delta);
}
