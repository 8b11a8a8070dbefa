package dev.wimg.server.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import org.junit.jupiter.api.Test;

class RequestPathsTest {

  @Test
  void originAndAbsoluteFormSplitIntoPathAndQuery() {
    assertThat(RequestTarget.parse("/files?name=a.jpg")).isEqualTo(new RequestTarget("/files", "name=a.jpg"));
    assertThat(RequestTarget.parse("/x")).isEqualTo(new RequestTarget("/x", null));
    assertThat(RequestTarget.parse("http://host:9333/files?a=b")).isEqualTo(new RequestTarget("/files", "a=b"));
    assertThat(RequestTarget.parse("http://host")).isEqualTo(new RequestTarget("/", null));
    assertThat(RequestTarget.parse("/x#frag")).isEqualTo(new RequestTarget("/x", null));
  }

  @Test
  void targetsThatAreNotPathsAreRejected() {
    assertThatThrownBy(() -> RequestTarget.parse("*")).hasMessage("request target must be a path starting with /");
    assertThatThrownBy(() -> RequestTarget.parse("host:443")).hasMessage("request target must be a path starting with /");
  }

  @Test
  void queryParametersArePercentAndPlusDecoded() {
    RequestTarget t = RequestTarget.parse("/files?x=1&name=caf%C3%A9+au+lait.jpg&name=second");
    assertThat(t.queryParameter("name")).isEqualTo("café au lait.jpg");
    assertThat(t.queryParameter("x")).isEqualTo("1");
    assertThat(t.queryParameter("missing")).isNull();
    assertThat(RequestTarget.parse("/files?name").queryParameter("name")).isEmpty();
  }

  @Test
  void badPercentEscapesAreRejected() {
    assertThatThrownBy(() -> RequestTarget.percentDecode("a%2", false)).hasMessage("truncated percent escape in: a%2");
    assertThatThrownBy(() -> RequestTarget.percentDecode("a%zz", false)).hasMessage("bad percent escape at 1 in: a%zz");
    assertThatThrownBy(() -> RequestTarget.percentDecode("%C3", false)).hasMessage("percent escapes are not valid UTF-8 in: %C3");
    assertThat(RequestTarget.percentDecode("a+b", false)).isEqualTo("a+b");
  }

  @Test
  void filePathsNameAFidAndAnOptionalName() {
    Fid fid = new Fid(1, 3, 0x1f, 0x09c2ab3e);
    assertThat(FilePath.parse("/1-3,1f09c2ab3e")).isEqualTo(new FilePath(fid, null));
    assertThat(FilePath.parse("/1-3,1f09c2ab3e/")).isEqualTo(new FilePath(fid, null));
    assertThat(FilePath.parse("/1-3,1f09c2ab3e/my%20cat.jpg")).isEqualTo(new FilePath(fid, "my cat.jpg"));
  }

  @Test
  void filePathErrorsNameTheProblem() {
    assertThatThrownBy(() -> FilePath.parse("/")).hasMessage("path must be /<fid> or /<fid>/<name>");
    assertThatThrownBy(() -> FilePath.parse("/1-3,1f09c2ab3e/a/b"))
        .hasMessage("path must be /<fid> or /<fid>/<name>, with one name segment");
    assertThatThrownBy(() -> FilePath.parse("/nope")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
  }
}
