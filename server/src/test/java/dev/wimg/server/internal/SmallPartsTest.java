package dev.wimg.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.server.internal.headers.ContentDisposition;
import dev.wimg.server.internal.headers.MimeTypes;
import dev.wimg.server.internal.http.WriteAuth;
import dev.wimg.server.internal.upload.UploadBudget;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

/** Content-Disposition, media types, the upload budget and the write key check. */
class SmallPartsTest {

  @Test
  void contentDispositionEncodesEveryUnsafeByte() {
    assertThat(ContentDisposition.inline("a.jpg")).isEqualTo("inline; filename=\"a.jpg\"; filename*=UTF-8''a.jpg");
    assertThat(ContentDisposition.inline("x\";\r\nSet-Cookie: a=b"))
        .isEqualTo("inline; filename=\"x_;__Set-Cookie: a=b\"; filename*=UTF-8''x%22%3B%0D%0ASet-Cookie%3A%20a%3Db");
    assertThat(ContentDisposition.inline("日本.png")).isEqualTo(
        "inline; filename=\"__.png\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png");
  }

  @Test
  void mimeTypesPreferTheStoredTypeThenTheFirstKnownExtension() {
    assertThat(MimeTypes.effective("image/x-custom", "a.png")).isEqualTo("image/x-custom");
    assertThat(MimeTypes.effective(null, "a.PNG")).isEqualTo("image/png");
    assertThat(MimeTypes.effective(null, null, "b.webp")).isEqualTo("image/webp");
    assertThat(MimeTypes.effective(null, "noext", "x.")).isEqualTo("application/octet-stream");
    assertThat(MimeTypes.isSafeInline("text/html; charset=utf-8")).isFalse();
    assertThat(MimeTypes.isSafeInline("image/svg+xml")).isFalse();
    assertThat(MimeTypes.isSafeInline("application/pdf")).isFalse();
    assertThat(MimeTypes.isSafeInline("image/jpeg")).isTrue();
    assertThat(MimeTypes.isSafeInline("text/plain; charset=utf-8")).isTrue();
  }

  @Test
  void uploadBudgetReservesUpToItsLimitAndRefusesWithoutReserving() {
    UploadBudget budget = new UploadBudget(100);
    assertThat(budget.tryReserve(60)).isTrue();
    assertThat(budget.tryReserve(41)).isFalse();
    assertThat(budget.reservedBytes()).isEqualTo(60);
    assertThat(budget.tryReserve(40)).isTrue();
    budget.release(100);
    assertThat(budget.reservedBytes()).isZero();
    assertThatThrownBy(() -> budget.release(1)).hasMessage("upload budget released more than reserved: -1");
  }

  @Test
  void writeAuthAcceptsOnlyTheBearerKey() {
    WriteAuth auth = WriteAuth.forKey("k3y");
    assertThat(auth.permits(request("Bearer k3y"))).isTrue();
    assertThat(auth.permits(request("bearer   k3y "))).isTrue();
    assertThat(auth.permits(request("Bearer k3"))).isFalse();
    assertThat(auth.permits(request("Bearer k3yy"))).isFalse();
    assertThat(auth.permits(request("Basic k3y"))).isFalse();
    assertThat(auth.permits(request(null))).isFalse();
    assertThat(WriteAuth.forKey(null).permits(request(null))).isTrue();
    assertThat(WriteAuth.forKey(null).required()).isFalse();
  }

  private static HttpRequest request(String authorization) {
    HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/files");
    if (authorization != null) {
      request.headers().set("Authorization", authorization);
    }
    return request;
  }
}
