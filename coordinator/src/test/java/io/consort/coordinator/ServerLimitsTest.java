package io.consort.coordinator;

import static io.consort.coordinator.TestCoordinator.await;
import static io.consort.coordinator.TestCoordinator.enrolRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.TlsMaterial;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server limits against slow and flooding peers ({@link ServerLimits}, docs/THREAT_MODEL.md):
 * HTTP/2 rapid reset (CVE-2023-44487) by a member, whose connection the RST flood limit closes (GOAWAY
 * ENHANCE_YOUR_CALM), and a Slowloris peer that opens a socket and never finishes its TLS handshake, which the
 * handshake timeout closes. The service goes on for everyone else.
 */
@Tag("e2e")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerLimitsTest {
  @TempDir
  Path dir;

  @Test
  void aPeerThatNeverFinishesItsHandshake_isClosedAfterTheHandshakeTimeout_andLogged() throws Exception {
    try (TestCoordinator coordinator = new TestCoordinator(dir, List.of("bank-1"), 3,
        ServerLimits.defaults().withTlsHandshakeTimeout(java.time.Duration.ofSeconds(1)));
         io.consort.transport.LogCapture refusals = new io.consort.transport.LogCapture(
             "io.consort.coordinator.refusals");
         java.net.Socket slow = new java.net.Socket("127.0.0.1", coordinator.port())) {
      // half a ClientHello, then nothing
      slow.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
      slow.getOutputStream().flush();
      slow.setSoTimeout(20_000);
      long start = System.nanoTime();
      int read = slow.getInputStream().read();
      long waitedMillis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(-1, read, "the server closed the socket without an answer");
      assertTrue(waitedMillis < 15_000, "closed only after " + waitedMillis + " ms");
      refusals.await(l -> l.contains("TLS handshake from 127.0.0.1:" + slow.getLocalPort()), "for the slow peer");
      assertEquals("bank-1", await(coordinator.client(coordinator.pki.bank("bank-1")).enrol(enrolRequest()))
          .getMemberId());
    }
  }

  @Test
  void aMemberResettingStreamsAsFastAsItCan_isDisconnected_andTheServiceGoesOn() throws Exception {
    try (TestCoordinator coordinator = new TestCoordinator(dir, List.of("bank-1", "bank-2"), 3,
        ServerLimits.defaults())) {
      TlsMaterial bank = coordinator.pki.bank("bank-1");
      SslContext tls = SslContextBuilder.forClient().keyManager(bank.chainFile().toFile(), bank.keyFile().toFile())
          .trustManager(bank.caFile().toFile()).protocols("TLSv1.3")
          .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
          .build();
      CompletableFuture<Long> goAway = new CompletableFuture<>();
      DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
      ChannelHandlerContext[] context = new ChannelHandlerContext[1];
      EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
      try {
        Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
            .handler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc(), "localhost", coordinator.port()),
                    new FrameReader(writer, goAway, context));
              }
            }).connect("127.0.0.1", coordinator.port()).sync().channel();
        ((SslHandler) channel.pipeline().first()).handshakeFuture().sync();
        ChannelHandlerContext ctx = context[0];
        channel.eventLoop().submit(() -> {
          ctx.write(Http2CodecUtil.connectionPrefaceBuf());
          writer.writeSettings(ctx, new Http2Settings(), ctx.newPromise());
          ctx.flush();
        }).sync();

        // open a stream and reset it at once, as fast as the connection takes them
        Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("https").authority("localhost")
            .path("/consort.v1.Federation/PullTask").add("content-type", "application/grpc").add("te", "trailers");
        int sent = 0;
        for (int batch = 0; batch < 200 && channel.isActive(); batch++) {
          int first = 1 + 2 * sent;
          channel.eventLoop().submit(() -> {
            for (int i = 0; i < 50; i++) {
              int stream = first + 2 * i;
              writer.writeHeaders(ctx, stream, headers, 0, false, ctx.newPromise());
              writer.writeRstStream(ctx, stream, Http2Error.CANCEL.code(), ctx.newPromise());
            }
            ctx.flush();
          }).sync();
          sent += 50;
        }
        // the server closes the connection (the client never would); its GOAWAY says why when it is read
        // before the close. How many resets were sent says little: the client queues them faster than
        // the server reads them
        assertTrue(channel.closeFuture().await(20, TimeUnit.SECONDS), "the connection is still open after " + sent
            + " resets");
        if (goAway.isDone()) {
          assertEquals(Http2Error.ENHANCE_YOUR_CALM.code(), goAway.get(), "GOAWAY after " + sent + " resets");
        }
      } finally {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
      }
      // the service goes on for everyone else
      assertEquals("bank-2", await(coordinator.client(coordinator.pki.bank("bank-2")).enrol(enrolRequest()))
          .getMemberId());
    }
  }

  /** Reads the server's frames: acknowledges its SETTINGS and reports its GOAWAY's error code. */
  private static final class FrameReader extends ChannelInboundHandlerAdapter {
    private final DefaultHttp2FrameWriter writer;
    private final CompletableFuture<Long> goAway;
    private final ChannelHandlerContext[] context;
    private io.netty.buffer.ByteBuf pending;

    FrameReader(DefaultHttp2FrameWriter writer, CompletableFuture<Long> goAway, ChannelHandlerContext[] context) {
      this.writer = writer;
      this.goAway = goAway;
      this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      context[0] = ctx;
      pending = ctx.alloc().buffer();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      io.netty.buffer.ByteBuf in = (io.netty.buffer.ByteBuf) msg;
      pending.writeBytes(in);
      in.release();
      while (pending.readableBytes() >= 9) {
        int length = pending.getUnsignedMedium(pending.readerIndex());
        if (pending.readableBytes() < 9 + length) {
          break;
        }
        int type = pending.getUnsignedByte(pending.readerIndex() + 3);
        int flags = pending.getUnsignedByte(pending.readerIndex() + 4);
        if (type == 0x4 && (flags & 0x1) == 0) {
          writer.writeSettingsAck(ctx, ctx.newPromise());
          ctx.flush();
        } else if (type == 0x7) {
          goAway.complete(pending.getUnsignedInt(pending.readerIndex() + 9 + 4));
        }
        pending.skipBytes(9 + length);
      }
      pending.discardReadBytes();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      pending.release();
    }
  }
}
