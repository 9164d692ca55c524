package io.hodei.support;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Blocking calls with the JDK's HTTP client, for tests that drive servers running in other processes. */
public final class JdkHttp {
  private JdkHttp() {}

  /** Sends {@code request} with a 10 s timeout; an I/O failure or interrupt becomes an unchecked exception. */
  public static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
