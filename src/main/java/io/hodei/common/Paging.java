package io.hodei.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Cursor pagination over lists ordered by id: {@code limit} (1..500, default 100) and an opaque {@code cursor}. */
public record Paging(int limit, String cursor) {
  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = 500;

  public static Paging from(BusRequest request) {
    String rawLimit = request.query("limit");
    int limit = DEFAULT_LIMIT;
    if (rawLimit != null) {
      if (!rawLimit.matches("\\d{1,4}")) throw DomainException.badRequest("limit must be a whole number 1.." + MAX_LIMIT);
      limit = Integer.parseInt(rawLimit);
      if (limit < 1 || limit > MAX_LIMIT) throw DomainException.unprocessable("limit must be between 1 and " + MAX_LIMIT);
    }
    String cursor = request.query("cursor");
    if (cursor != null && (cursor.isEmpty() || cursor.length() > 200)) {
      throw DomainException.badRequest("cursor is not one this server issued");
    }
    return new Paging(limit, cursor);
  }

  /** Builds the page reply from {@code limit + 1} fetched items; {@code next_cursor} is null on the last page. */
  public JsonObject page(List<JsonObject> fetched, String idField) {
    List<JsonObject> items = fetched.size() > limit ? fetched.subList(0, limit) : fetched;
    String next = fetched.size() > limit ? items.get(items.size() - 1).getString(idField) : null;
    return new JsonObject().put("items", new JsonArray(new ArrayList<>(items))).put("next_cursor", next);
  }
}
