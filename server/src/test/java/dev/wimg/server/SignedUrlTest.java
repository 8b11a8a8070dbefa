package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.server.internal.transform.TransformQuery;
import dev.wimg.server.internal.transform.UrlSigner;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** HMAC-SHA256 signed transform URLs with two keys (rotation). */
@ExtendWith(NettyLeakCheck.class)
class SignedUrlTest {

  private static final String OLD_KEY = "old-key-0123456789abcdef";
  private static final String NEW_KEY = "new-key-fedcba9876543210";

  @TempDir
  Path dir;

  private TestServer server;
  private String fid;

  @BeforeEach
  void start() throws IOException {
    ImagingConfig imaging = ImagingConfig.defaults().withSigningKeys(List.of(NEW_KEY, OLD_KEY));
    server = TestServer.start(TestServer.config(dir).withImaging(imaging), ServerTuning.defaults(), new GatedEngine());
    fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** What a client computes: HMAC of the path and the sorted parameters. */
  private static String sign(String key, String path, String query) {
    return UrlSigner.sign(key, UrlSigner.message(path, TransformQuery.parse(query)));
  }

  private static String error(HttpResponse<byte[]> response) {
    return TestServer.json(response).get("error").asText();
  }

  @Test
  void anUnsignedTransformIsForbiddenButTheOriginalIsNot() {
    HttpResponse<byte[]> unsigned = server.get("/" + fid + "?w=100");
    assertThat(unsigned.statusCode()).isEqualTo(403);
    assertThat(error(unsigned)).isEqualTo("transforms need a signed URL on this server: sig is missing");
    assertThat(server.get("/" + fid).statusCode()).isEqualTo(200);
  }

  @Test
  void aSignatureFromEitherKeyIsAccepted() {
    String path = "/" + fid + "/painting.jpg";
    String query = "w=100&format=png";
    // the client may order parameters as it likes: the signed text sorts them
    assertThat(server.get(path + "?format=png&w=100&sig=" + sign(NEW_KEY, path, query)).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> old = server.get(path + "?w=100&sig=" + sign(OLD_KEY, path, query) + "&format=png");
    assertThat(old.statusCode()).isEqualTo(200);
    assertThat(old.headers().firstValue("Content-Type")).hasValue("image/png");
  }

  @Test
  void aSignatureForAnotherUrlOrKeyIsForbidden() {
    String path = "/" + fid;
    String otherWidth = sign(NEW_KEY, path, "w=200");
    HttpResponse<byte[]> tampered = server.get(path + "?w=100&sig=" + otherWidth);
    assertThat(tampered.statusCode()).isEqualTo(403);
    assertThat(error(tampered)).isEqualTo("sig does not match this URL");

    String otherPath = sign(NEW_KEY, path + "/x.jpg", "w=100");
    assertThat(server.get(path + "?w=100&sig=" + otherPath).statusCode()).isEqualTo(403);
    assertThat(server.get(path + "?w=100&sig=" + sign("some-other-key-0123456789", path, "w=100")).statusCode())
        .isEqualTo(403);
    assertThat(server.get(path + "?w=100&sig=zz").statusCode()).isEqualTo(403);
  }
}
