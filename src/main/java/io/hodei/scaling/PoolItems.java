package io.hodei.scaling;

import io.hodei.common.DomainException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The policies (or triggers) of every pool, in memory for the evaluation loop and written through to PostgreSQL:
 * the shared create/replace/delete rules (per-pool limit, item of another pool is 404, stale If-Match is 412).
 */
final class PoolItems<T> {
  private final String what;
  private final Function<T, String> id;
  private final Function<T, String> poolId;
  private final Function<T, Long> version;
  private final Function<T, JsonObject> json;
  private final Function<T, Future<Void>> save;
  private final Function<String, Future<Void>> delete;
  private final Map<String, T> items = new LinkedHashMap<>();

  PoolItems(String what, Function<T, String> id, Function<T, String> poolId, Function<T, Long> version,
            Function<T, JsonObject> json, Function<T, Future<Void>> save, Function<String, Future<Void>> delete) {
    this.what = what;
    this.id = id;
    this.poolId = poolId;
    this.version = version;
    this.json = json;
    this.save = save;
    this.delete = delete;
  }

  void load(Collection<T> loaded) { loaded.forEach(item -> items.put(id.apply(item), item)); }

  List<T> of(String pool) {
    return items.values().stream().filter(i -> poolId.apply(i).equals(pool))
        .sorted(Comparator.comparing(id)).toList();
  }

  JsonObject list(String pool) {
    return new JsonObject().put("pool_id", pool)
        .put("items", new JsonArray(of(pool).stream().map(json).toList())).put("next_cursor", (String) null);
  }

  T get(String pool, String itemId) {
    T item = items.get(itemId);
    if (item == null || !poolId.apply(item).equals(pool)) throw DomainException.notFound(what, itemId);
    return item;
  }

  /** Checks the limit of items per pool before a create. */
  void checkRoom(String pool) {
    if (of(pool).size() >= ScalingRequests.MAX_ITEMS_PER_POOL) {
      throw DomainException.conflict("pool '" + pool + "' already has " + ScalingRequests.MAX_ITEMS_PER_POOL + " "
          + what + "s, the most it can have; delete one first");
    }
  }

  /** Checks If-Match against the stored item. */
  void checkVersion(T current, Long ifMatch) {
    if (ifMatch != null && ifMatch != version.apply(current).longValue()) {
      throw DomainException.preconditionFailed(what + " '" + id.apply(current) + "' is at version "
          + version.apply(current) + ", not " + ifMatch + "; fetch it again and retry");
    }
  }

  Future<JsonObject> put(T item) {
    return save.apply(item).map(v -> {
      items.put(id.apply(item), item);
      return json.apply(item);
    });
  }

  Future<JsonObject> remove(T item) {
    return delete.apply(id.apply(item)).map(v -> {
      items.remove(id.apply(item));
      return new JsonObject().put("id", id.apply(item)).put("deleted", true);
    });
  }

  /** Drops the items of pools that are gone (their rows went with the pool). */
  void retain(java.util.Set<String> pools) { items.values().removeIf(i -> !pools.contains(poolId.apply(i))); }

  Collection<T> all() { return items.values(); }
}
