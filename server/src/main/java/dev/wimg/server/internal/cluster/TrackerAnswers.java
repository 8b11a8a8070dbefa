package dev.wimg.server.internal.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** What a storage node reads of a tracker's answers that are not what it asked for. */
final class TrackerAnswers {

  /** Characters of a non-JSON answer quoted in a log line. */
  private static final int QUOTED_CHARACTERS = 200;

  private TrackerAnswers() {
  }

  /**
   * The message of a tracker's error answer ({@code {"error": "...", "status": ...}}), or the start
   * of the body when it is not one.
   */
  static String errorMessage(ObjectMapper mapper, String body) {
    try {
      JsonNode error = mapper.readTree(body).get("error");
      return error != null ? error.asText() : body;
    } catch (IOException | RuntimeException e) {
      return body.length() > QUOTED_CHARACTERS ? body.substring(0, QUOTED_CHARACTERS) : body;
    }
  }
}
