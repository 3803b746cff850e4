package io.consort.cli.jobs;

import io.consort.certs.TlsMaterial;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/**
 * A client of the coordinator's operator API over mutual TLS 1.3: the caller's identity directory
 * (key, chain, consortium CA, as {@code consort certs} writes it) and the API's address. The
 * consortium CA is the only trust anchor, and the server's name is checked against its certificate.
 */
public final class OperatorClient implements AutoCloseable {
  /** The options every command that calls the API shares. */
  public static final class Options {
    @Option(names = "--api", required = true, paramLabel = "URL",
        description = "the coordinator's operator API, e.g. https://coordinator.example:7444")
    URI api;

    @Option(names = "--identity", required = true, paramLabel = "DIR",
        description = "your identity directory (key.pem, chain.pem, ca.crt.pem): an operator's or an auditor's")
    Path identity;

    public OperatorClient connect() {
      return OperatorClient.connect(api, identity);
    }
  }

  /**
   * A client of the API at {@code api} (https://HOST:PORT) with the identity in {@code identity}.
   *
   * @throws IllegalArgumentException naming the option that is wrong
   */
  public static OperatorClient connect(URI api, Path identity) {
    if (!"https".equals(api.getScheme()) || api.getHost() == null || api.getPort() < 0) {
      throw new IllegalArgumentException("--api must be https://HOST:PORT, got '" + api + "'");
    }
    TlsMaterial tls = TlsMaterial.inDirectory(identity);
    for (Path f : new Path[] {tls.keyFile(), tls.chainFile(), tls.caFile()}) {
      if (!Files.isReadable(f)) {
        throw new IllegalArgumentException("--identity " + identity + ": " + f.getFileName() + " is missing or "
            + "not readable");
      }
    }
    return new OperatorClient(api, tls);
  }

  /** The API's answer: its status and body. */
  public record Response(int status, Buffer body, String header) {
    public JsonObject json() {
      return body.length() == 0 ? new JsonObject() : body.toJsonObject();
    }

    /** The API's own message for a refusal, or the status. */
    public String error() {
      try {
        String e = json().getString("error");
        return e == null ? "HTTP " + status : e;
      } catch (RuntimeException notJson) {
        return "HTTP " + status;
      }
    }
  }

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client;
  private final URI api;

  private OperatorClient(URI api, TlsMaterial tls) {
    this.api = api;
    this.client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(true)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(tls.keyFile().toString())
            .setCertPath(tls.chainFile().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(tls.caFile().toString())));
  }

  public Response get(String path) throws Exception {
    return call(HttpMethod.GET, path, null, null);
  }

  /** @param responseHeader a response header to return with the body, or null */
  public Response get(String path, String responseHeader) throws Exception {
    return call(HttpMethod.GET, path, null, responseHeader);
  }

  public Response post(String path, JsonObject body) throws Exception {
    return call(HttpMethod.POST, path, body == null ? Buffer.buffer() : body.toBuffer(), null);
  }

  private Response call(HttpMethod method, String path, Buffer body, String header) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(method).setHost(api.getHost()).setPort(api.getPort())
        .setURI(path).putHeader("content-type", "application/json");
    try {
      return client.request(options)
          .compose(req -> body == null ? req.send() : req.send(body))
          .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), b,
              header == null ? null : resp.getHeader(header))))
          .await(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("the operator API at " + api + " did not answer within 120 s");
    } catch (Exception e) {
      throw new IllegalStateException("cannot reach the operator API at " + api + ": " + e.getMessage(), e);
    }
  }

  /** {@code value} as one path segment of a URL. */
  public static String pathSegment(String value) {
    return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
