package io.hodei.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * A clustered Vert.x on Hazelcast, configured in code from {@link ClusterSettings} (no cluster.xml): TCP-IP join with
 * the configured members, multicast and auto-detection off, no phone-home, a member that stops answering heartbeats
 * dropped within seconds (a killed node's event-bus registrations go with it).
 */
public final class ClusteredVertx {
  /** Hazelcast cluster name: members of another application on the same ports are not joined. */
  static final String CLUSTER_NAME = "hodei";

  private ClusteredVertx() {}

  /** Builds the clustered Vert.x; {@code options} is the node's options, completed with the event-bus address. */
  public static Future<Vertx> build(VertxBuilder builder, VertxOptions options, ClusterSettings settings) {
    options.setEventBusOptions(new EventBusOptions().setHost(settings.host()).setPort(settings.busPort())
        .setClusterPublicHost(settings.host()));
    return builder.with(options).withClusterManager(clusterManager(settings)).buildClustered();
  }

  static ClusterManager clusterManager(ClusterSettings settings) {
    return new HazelcastClusterManager(hazelcastConfig(settings));
  }

  static Config hazelcastConfig(ClusterSettings settings) {
    Config config = new Config();
    config.setClusterName(CLUSTER_NAME);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // the members are known: no 5 s wait for more before the first join
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    // Vert.x leaves the cluster when the server stops; Hazelcast's own hook would leave before the drain
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(settings.port()).setPortAutoIncrement(false);
    network.setPublicAddress(settings.host() + ":" + settings.port());
    if (settings.host().matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      // an address: listen on it only (a host name is resolved by Hazelcast, which then listens on every interface)
      config.setProperty("hazelcast.socket.bind.any", "false");
      network.getInterfaces().setEnabled(true).addInterface(settings.host());
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(settings.members());
    // the structures Vert.x keeps in Hazelcast (as in vertx-hazelcast's default-cluster.xml)
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return config;
  }
}
