package io.consort.transport;

import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.ClientAuth;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JDK TLS engine Vert.x uses anyway, plus a listener told about every failed handshake with the
 * peer's address: a refused handshake (no client certificate, a certificate from another CA or
 * revoked, TLS 1.2, a wrong host name) otherwise surfaces in Vert.x only as an exception without a
 * peer, or on a client as "Failed to create SSL connection". Set with
 * {@code HttpServerOptions.setSslEngineOptions} / {@code HttpClientOptions.setSslEngineOptions};
 * the handshake itself is unchanged (Vert.x still builds the Netty context once from the same key,
 * trust and CRL options, and shares it between connections), except that its delegated tasks run on
 * Vert.x's worker pool rather than the event loop.
 */
public final class HandshakeObserver extends JdkSSLEngineOptions {
  /** Told on a Netty thread about each handshake that failed; must not block. */
  @FunctionalInterface
  public interface Listener {
    /**
     * @param peer the other side's address ({@code host:port}), or {@code "unknown peer"}
     * @param reason why the handshake failed, from the TLS stack's exceptions
     */
    void handshakeFailed(String peer, String reason);
  }

  private final Listener listener;

  public HandshakeObserver(Listener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    // The handshake's expensive steps (the ECDHE key share, signing, checking the peer's chain against
    // the CA and the CRL) are the TLS engine's delegated tasks; Netty runs them on the event loop by
    // default, so a server's one event loop did every handshake in turn: 100 banks connecting at once
    // on 2 loaded cores queued past the 10 s handshake timeout. On Vert.x's worker pool they use every
    // core, and the event loop keeps serving the banks already connected.
    setUseWorkerThread(true);
  }

  private HandshakeObserver(HandshakeObserver that) {
    super(that);
    this.listener = that.listener;
  }

  @Override
  public HandshakeObserver copy() {
    return new HandshakeObserver(this);
  }

  @Override
  public SslContextFactory sslContextFactory() {
    SslContextFactory jdk = super.sslContextFactory();
    return new SslContextFactory() {
      @Override
      public SslContextFactory useAlpn(boolean useAlpn) {
        jdk.useAlpn(useAlpn);
        return this;
      }

      @Override
      public SslContextFactory clientAuth(ClientAuth clientAuth) {
        jdk.clientAuth(clientAuth);
        return this;
      }

      @Override
      public SslContextFactory forClient(boolean forClient) {
        jdk.forClient(forClient);
        return this;
      }

      @Override
      public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
        jdk.keyMananagerFactory(kmf);
        return this;
      }

      @Override
      public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
        jdk.trustManagerFactory(tmf);
        return this;
      }

      @Override
      public SslContextFactory enabledCipherSuites(Set<String> enabledCipherSuites) {
        jdk.enabledCipherSuites(enabledCipherSuites);
        return this;
      }

      @Override
      public SslContextFactory applicationProtocols(List<String> applicationProtocols) {
        jdk.applicationProtocols(applicationProtocols);
        return this;
      }

      @Override
      public SslContextFactory serverName(String serverName) {
        jdk.serverName(serverName);
        return this;
      }

      @Override
      public SslContext create() throws SSLException {
        return new Observed(jdk.create(), listener);
      }
    };
  }

  /** The words of a TLS failure: each distinct message down the cause chain, outermost first. */
  public static String reason(Throwable failure) {
    Set<String> messages = new LinkedHashSet<>();
    for (Throwable t = failure; t != null && messages.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      if (m != null && !m.isBlank() && messages.stream().noneMatch(seen -> seen.contains(m))) {
        messages.add(m);
      }
    }
    return messages.isEmpty() ? failure.getClass().getSimpleName() : String.join(": ", messages);
  }

  private static final class Observed extends DelegatingSslContext {
    private final Listener listener;

    Observed(SslContext context, Listener listener) {
      super(context);
      this.listener = listener;
    }

    @Override
    protected void initEngine(SSLEngine engine) {
      // the engine is Vert.x's, configured as usual
    }

    @Override
    protected void initHandler(SslHandler handler) {
      super.initHandler(handler);
      SSLEngine engine = handler.engine();
      handler.handshakeFuture().addListener(done -> {
        // a connection that closed before its handshake could run (a refused or aborted TCP connect) is no refusal
        if (!done.isSuccess() && !String.valueOf(done.cause().getMessage()).startsWith("SslHandler removed")) {
          String peer = engine.getPeerHost() == null ? "unknown peer" : engine.getPeerHost() + ":" + engine.getPeerPort();
          listener.handshakeFailed(peer, reason(done.cause()));
        }
      });
    }
  }
}
