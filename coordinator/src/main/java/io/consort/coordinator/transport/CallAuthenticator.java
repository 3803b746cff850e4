package io.consort.coordinator.transport;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.vertx.core.http.HttpConnection;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Who is calling, checked on every call and not only at the TLS handshake: the client certificate
 * of the call's connection, validated by the consortium's {@link CertificateValidator} as it
 * stands now (issuer, validity, the current CRL, which must not be stale, key, role). A certificate
 * revoked while its connection stays open is refused from the first call after the CRL reload; one
 * that expires, from the first call after it expired. The result is cached per connection until
 * the validator is swapped or {@link #REVALIDATE_AFTER} has passed. Thread-safe.
 */
public final class CallAuthenticator {
  /** How long one validation of a connection's certificate is reused. */
  public static final Duration REVALIDATE_AFTER = Duration.ofSeconds(30);

  /** The caller's identity, or why it is refused. */
  public record Verdict(PeerIdentity identity, X509Certificate certificate, boolean unauthenticated, String refusal) {
    public boolean admitted() {
      return identity != null;
    }
  }

  private record Cached(CertificateValidator validator, Set<Role> roles, long at, Verdict verdict) {}

  private volatile CertificateValidator validator;
  private final Map<HttpConnection, Cached> cache = new WeakHashMap<>();

  public CallAuthenticator(CertificateValidator validator) {
    this.validator = Objects.requireNonNull(validator, "validator");
  }

  /** The validator in force (with the CRL last loaded). */
  public CertificateValidator validator() {
    return validator;
  }

  /** Swaps in a validator with a new CRL; every connection is validated again at its next call. */
  public void use(CertificateValidator newValidator) {
    this.validator = Objects.requireNonNull(newValidator, "newValidator");
  }

  /** Validates the certificate of {@code connection}'s peer for one of {@code roles}. */
  public Verdict authenticate(HttpConnection connection, Set<Role> roles) {
    CertificateValidator current = validator;
    long now = System.nanoTime();
    synchronized (cache) {
      Cached c = cache.get(connection);
      if (c != null && c.validator == current && c.roles.equals(roles) && now - c.at < REVALIDATE_AFTER.toNanos()) {
        return c.verdict;
      }
    }
    Verdict verdict = validate(connection, roles, current);
    synchronized (cache) {
      cache.put(connection, new Cached(current, roles, now, verdict));
    }
    return verdict;
  }

  private static Verdict validate(HttpConnection connection, Set<Role> roles, CertificateValidator validator) {
    X509Certificate leaf;
    try {
      List<Certificate> chain = connection.peerCertificates();
      if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate)) {
        return new Verdict(null, null, true, "no client certificate presented");
      }
      leaf = (X509Certificate) chain.get(0);
    } catch (SSLPeerUnverifiedException e) {
      return new Verdict(null, null, true, "client certificate not verified: " + e.getMessage());
    }
    try {
      return new Verdict(validator.validate(leaf, roles), leaf, false, null);
    } catch (CertificateRejectedException e) {
      return new Verdict(null, leaf, false, e.getMessage());
    }
  }
}
