package io.hodei.app.config;

/** A configuration problem; its message names the key and stops start-up. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) { super(message); }
}
