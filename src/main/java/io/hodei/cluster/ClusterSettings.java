package io.hodei.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's cluster configuration ({@code cluster.*}): the Hazelcast members to join over TCP, this node's address
 * and ports. The node's id is its announced {@code host:port}: stable across restarts, unique in the cluster.
 */
public record ClusterSettings(List<String> members, String host, int port, int busPort) {

  public ClusterSettings {
    members = List.copyOf(members);
    if (host == null || host.isBlank()) throw new IllegalStateException("cluster.host must not be empty");
  }

  /** The settings from the raw values; fails with the key's name on a malformed member list. */
  public static ClusterSettings of(String members, String host, int port, int busPort) {
    return new ClusterSettings(parseMembers(members), host, port, busPort);
  }

  /** This node's id: the host and Hazelcast port it announces. */
  public String nodeId() { return host + ":" + port; }

  static List<String> parseMembers(String raw) {
    List<String> result = new ArrayList<>();
    if (raw == null || raw.isBlank()) {
      throw new IllegalStateException("cluster.members must list at least one host:port");
    }
    for (String entry : raw.split(",")) {
      String member = entry.trim();
      int colon = member.lastIndexOf(':');
      if (member.isEmpty() || colon <= 0 || colon == member.length() - 1) {
        throw new IllegalStateException("cluster.members: '" + member + "' is not host:port");
      }
      int port;
      try {
        port = Integer.parseInt(member.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalStateException("cluster.members: '" + member + "' has no numeric port");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalStateException("cluster.members: the port of '" + member + "' is not in 1..65535");
      }
      result.add(member);
    }
    return result;
  }
}
