package io.hodei.cli;

import picocli.CommandLine.Option;

/** Options of every command that calls the server. */
public final class ApiOptions {
  @Option(names = "--server", paramLabel = "URL", description = "Server URL (overrides HODEI_SERVER and the context).")
  String server;

  @Option(names = "--token", paramLabel = "TOKEN", description = "API token (overrides HODEI_TOKEN and the context).")
  String token;

  @Option(names = "--context", paramLabel = "NAME", description = "Use this context of the config file instead of the current one.")
  String context;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
      converter = FormatConverter.class, description = "table (default), wide, json or yaml.")
  Output.Format format = Output.Format.TABLE;

  static final class FormatConverter implements picocli.CommandLine.ITypeConverter<Output.Format> {
    @Override
    public Output.Format convert(String value) {
      return switch (value.toLowerCase(java.util.Locale.ROOT)) {
        case "table" -> Output.Format.TABLE;
        case "wide" -> Output.Format.WIDE;
        case "json" -> Output.Format.JSON;
        case "yaml" -> Output.Format.YAML;
        default -> throw new picocli.CommandLine.TypeConversionException(
            "'" + value + "' is not an output format (table, wide, json, yaml)");
      };
    }
  }
}
