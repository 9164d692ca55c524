package io.hodei.app.config;

import io.hodei.app.config.ConfigKey.Type;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads {@code conf/hodei.yaml} (or the file named by {@code HODEI_CONFIG}), applies environment overrides and then
 * explicit overrides (tests), and validates every value. Any unknown key or bad value stops start-up with its name.
 */
public final class ConfigLoader {
  public static final String CONFIG_FILE_ENV = "HODEI_CONFIG";
  public static final Path DEFAULT_FILE = Path.of("conf", "hodei.yaml");

  private ConfigLoader() {}

  /** Loads for the real process: file from HODEI_CONFIG or ./conf/hodei.yaml if present, env from the process. */
  public static HodeiConfig fromEnvironment(Map<String, String> env) {
    Path file = env.containsKey(CONFIG_FILE_ENV) ? Path.of(env.get(CONFIG_FILE_ENV)) : DEFAULT_FILE;
    if (env.containsKey(CONFIG_FILE_ENV) && !Files.isRegularFile(file)) {
      throw new ConfigException(CONFIG_FILE_ENV + ": no such file " + file);
    }
    return load(Files.isRegularFile(file) ? file : null, env, Map.of());
  }

  public static HodeiConfig load(Path file, Map<String, String> env, Map<String, Object> overrides) {
    Map<String, Object> values = new LinkedHashMap<>();
    ConfigSchema.keys().values().forEach(k -> values.put(k.path(), k.defaultValue()));
    if (file != null) {
      Map<String, Object> flat = new LinkedHashMap<>();
      flatten("", readYaml(file), flat, file.toString());
      flat.forEach((path, raw) -> {
        ConfigKey key = ConfigSchema.find(path).orElseThrow();
        if (key.envOnly()) {
          throw new ConfigException(path + ": set it through " + key.envNames().get(key.envNames().size() - 1)
              + ", not in a file (no credentials in config files)");
        }
        values.put(path, coerce(key, raw, path + " in " + file));
      });
    }
    applyEnv(env, values);
    overrides.forEach((path, raw) -> {
      ConfigKey key = ConfigSchema.find(path).orElseThrow(() -> new ConfigException("unknown config key " + path));
      values.put(path, coerce(key, raw, path));
    });
    return new HodeiConfig(values);
  }

  private static Map<String, Object> readYaml(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      if (root == null) return Map.of();
      if (!(root instanceof Map<?, ?> map)) throw new ConfigException(file + ": the top level must be a mapping");
      return castMap(map, file.toString());
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot be read (" + e.getMessage() + ")");
    } catch (org.yaml.snakeyaml.error.YAMLException e) {
      throw new ConfigException(file + ": not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
  }

  private static void flatten(String prefix, Map<String, Object> node, Map<String, Object> out, String source) {
    for (Map.Entry<String, Object> e : node.entrySet()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (ConfigSchema.find(path).isPresent()) {
        out.put(path, e.getValue());
      } else if (ConfigSchema.isSection(path) && e.getValue() instanceof Map<?, ?> child) {
        flatten(path, castMap(child, source), out, source);
      } else if (ConfigSchema.isSection(path) && e.getValue() == null) {
        // an empty section keeps the defaults
      } else {
        throw new ConfigException("unknown config key " + path + " in " + source);
      }
    }
  }

  private static Map<String, Object> castMap(Map<?, ?> map, String source) {
    Map<String, Object> result = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (!(k instanceof String s)) throw new ConfigException(source + ": keys must be strings, got " + k);
      result.put(s, v);
    });
    return result;
  }

  private static void applyEnv(Map<String, String> env, Map<String, Object> values) {
    Map<String, ConfigKey> byEnv = new HashMap<>();
    ConfigSchema.keys().values().forEach(k -> k.envNames().forEach(n -> byEnv.put(n, k)));
    for (Map.Entry<String, String> e : env.entrySet()) {
      ConfigKey key = byEnv.get(e.getKey());
      if (key == null) {
        if (e.getKey().startsWith("HODEI_") && !e.getKey().equals(CONFIG_FILE_ENV)) {
          throw new ConfigException("unknown environment variable " + e.getKey());
        }
        continue;
      }
      Object raw = e.getValue();
      if (key.type() == Type.LIST) {
        throw new ConfigException(e.getKey() + ": " + key.path() + " can only be set in the config file");
      }
      values.put(key.path(), coerce(key, raw, e.getKey()));
    }
  }

  private static Object coerce(ConfigKey key, Object raw, String where) {
    if (raw == null) {
      if (key.defaultValue() == null) return null;
      throw new ConfigException(where + ": a value is required");
    }
    switch (key.type()) {
      case INT -> {
        long value;
        if (raw instanceof Number n && !(raw instanceof Double) && !(raw instanceof Float)) {
          value = n.longValue();
        } else if (raw instanceof String s && s.trim().matches("-?\\d{1,18}")) {
          value = Long.parseLong(s.trim());
        } else {
          throw new ConfigException(where + ": expected a whole number, got '" + raw + "'");
        }
        if (value < key.min() || value > key.max()) {
          throw new ConfigException(where + ": " + value + " is outside " + key.min() + ".." + key.max());
        }
        return value;
      }
      case BOOL -> {
        if (raw instanceof Boolean b) return b;
        String s = raw.toString().trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw new ConfigException(where + ": expected true or false, got '" + raw + "'");
      }
      case STRING -> {
        if (raw instanceof Map || raw instanceof List) throw new ConfigException(where + ": expected a string");
        String s = raw.toString();
        if (key.path().equals(ConfigSchema.ADMIN_TOKEN) && s.length() < 16) {
          throw new ConfigException(where + ": the admin token must have at least 16 characters");
        }
        return s;
      }
      case ENUM -> {
        String s = raw.toString().trim();
        for (String allowed : key.allowed()) if (allowed.equalsIgnoreCase(s)) return allowed;
        throw new ConfigException(where + ": '" + raw + "' is not one of " + key.allowed());
      }
      case LIST -> {
        if (!(raw instanceof List<?> list)) throw new ConfigException(where + ": expected a list");
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          if (!(list.get(i) instanceof Map<?, ?> m)) throw new ConfigException(where + "[" + i + "]: expected a mapping");
          Map<String, Object> entry = castMap(m, where);
          for (String k : entry.keySet()) {
            if (!ConfigSchema.POOL_ENTRY_KEYS.contains(k)) {
              throw new ConfigException("unknown config key " + key.path() + "[" + i + "]." + k);
            }
          }
          entries.add(entry);
        }
        return List.copyOf(entries);
      }
      default -> throw new IllegalStateException();
    }
  }
}
