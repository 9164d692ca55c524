package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Mixin;

/** A command that talks to the server: resolves server and token (flag, then env, then context) once. */
public abstract class ApiCommand extends CliCommand {
  @Mixin
  protected ApiOptions api;

  private RestClient client;
  private StreamClient streams;

  protected RestClient client() {
    if (client == null) client = root().client(api.server, api.token, api.context);
    return client;
  }

  /** The streaming client (gRPC and the event bridge on the same server URL); closed when the command ends. */
  protected StreamClient streams() {
    if (streams == null) {
      HodeiCli.Target t = root().target(api.server, api.token, api.context);
      streams = new StreamClient(t.server(), t.token());
    }
    return streams;
  }

  @Override
  protected void cleanup() {
    if (streams != null) streams.close();
  }

  protected Output.Format format() { return api.format; }

  protected boolean machine() { return api.format.machine(); }

  protected boolean wide() { return api.format == Output.Format.WIDE; }

  /** -o json|yaml prints {@code value}; returns false when the caller should print its human view instead. */
  protected boolean printedAsData(Object value) {
    if (!machine()) return false;
    Output.machine(out(), api.format, value);
    return true;
  }

  protected static JsonArray items(JsonObject page) {
    JsonArray a = page.getJsonArray("items");
    return a == null ? new JsonArray() : a;
  }

  protected static String encodePath(String segment) {
    return java.net.URLEncoder.encode(segment, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }
}
