package dev.wimg.imaging.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ExifOrientationTest {

  private static byte[] fixture(String name) throws IOException {
    try (InputStream in = ExifOrientationTest.class.getResourceAsStream("/pictures/" + name)) {
      return in.readAllBytes();
    }
  }

  /** A JPEG start with an APP1 Exif segment holding one IFD0 entry. */
  static byte[] jpegWithOrientation(ByteOrder order, int type, int value) {
    ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4).order(order);
    tiff.put(order == ByteOrder.LITTLE_ENDIAN ? (byte) 'I' : (byte) 'M');
    tiff.put(order == ByteOrder.LITTLE_ENDIAN ? (byte) 'I' : (byte) 'M');
    tiff.putShort((short) 42).putInt(8).putShort((short) 1);
    tiff.putShort((short) 0x0112).putShort((short) type).putInt(1).putShort((short) value)
        .putShort((short) 0).putInt(0);
    byte[] t = tiff.array();
    ByteBuffer jpeg = ByteBuffer.allocate(2 + 4 + 6 + t.length + 2);
    jpeg.put((byte) 0xFF).put((byte) 0xD8).put((byte) 0xFF).put((byte) 0xE1)
        .putShort((short) (2 + 6 + t.length)).put("Exif\0\0".getBytes()).put(t)
        .put((byte) 0xFF).put((byte) 0xD9);
    return jpeg.array();
  }

  @Test
  void readsTheOrientationOfTheFixtures() throws IOException {
    assertThat(ExifOrientation.read(ByteBuffer.wrap(fixture("painting-exif6.jpg")))).isEqualTo(6);
    assertThat(ExifOrientation.read(ByteBuffer.wrap(fixture("painting.jpg")))).isEqualTo(1);
  }

  @Property(tries = 50)
  void readsEveryValueInBothByteOrders(@ForAll @IntRange(min = 1, max = 8) int value,
                                       @ForAll boolean littleEndian) {
    byte[] jpeg = jpegWithOrientation(littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN, 3, value);
    assertThat(ExifOrientation.read(ByteBuffer.wrap(jpeg))).isEqualTo(value);
  }

  @Test
  void outOfRangeOrWrongTypeIsIgnored() {
    assertThat(ExifOrientation.read(ByteBuffer.wrap(jpegWithOrientation(ByteOrder.BIG_ENDIAN, 3, 9)))).isEqualTo(1);
    assertThat(ExifOrientation.read(ByteBuffer.wrap(jpegWithOrientation(ByteOrder.BIG_ENDIAN, 4, 6)))).isEqualTo(1);
    assertThat(ExifOrientation.read(ByteBuffer.wrap(jpegWithOrientation(ByteOrder.BIG_ENDIAN, 3, 0)))).isEqualTo(1);
  }

  @Property(tries = 300)
  void truncationAtAnyByteNeverThrows(@ForAll @IntRange(min = 0, max = 40) int length) {
    byte[] jpeg = jpegWithOrientation(ByteOrder.LITTLE_ENDIAN, 3, 8);
    int result = ExifOrientation.read(ByteBuffer.wrap(Arrays.copyOf(jpeg, Math.min(length, jpeg.length))));
    assertThat(result).isBetween(1, 8);
  }

  @Property(tries = 1000)
  void singleBitFlipsNeverThrow(@ForAll @IntRange(min = 0, max = 8 * 40 - 1) int bit) {
    byte[] jpeg = jpegWithOrientation(ByteOrder.BIG_ENDIAN, 3, 6);
    jpeg[bit / 8] ^= (byte) (1 << (bit % 8));
    assertThat(ExifOrientation.read(ByteBuffer.wrap(jpeg))).isBetween(1, 8);
  }
}
