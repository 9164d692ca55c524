package io.hodei.store;

import io.hodei.store.GroupCommit.Statement;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The writes of a {@link GroupCommit} waiting for a transaction, in queue order, and which of them the next
 * transaction may take: the writes at the head of the queue up to the first one about an entity (key) with a
 * statement still in flight, so that an entity's writes land in the order they were queued, and up to a budget of
 * statements. A snapshot write (the whole state of its entity) still waiting is replaced by a later snapshot of the
 * same entity and SQL, unless another write about that entity was queued between them.
 *
 * <p>Plain bookkeeping, no I/O: confined to its writer's event loop like the writer.
 */
final class WriteQueue {
  /**
   * Statements that commit together; {@code done} completes when they have. {@code durable}: retried until it
   * commits; {@code seq}: its place in queue order; {@code snapshot}: its one statement writes the whole state of its
   * entity (see {@link GroupCommit#writeSnapshot}).
   */
  record Write(List<Statement> statements, Promise<Void> done, boolean durable, long seq, boolean snapshot) {
    Write(List<Statement> statements, Promise<Void> done, boolean durable, long seq) {
      this(statements, done, durable, seq, false);
    }
  }

  private final int maxStatements;
  private final ArrayDeque<Write> queue = new ArrayDeque<>();
  /** Keys with a statement in a transaction in flight: a later write about one of them waits for it to commit. */
  private final Map<String, Integer> busyKeys = new HashMap<>();
  /** The snapshot write of a key still waiting in the queue, when nothing about that key was queued after it. */
  private final Map<String, Write> pendingSnapshots = new HashMap<>();
  /** Queued writes that are not snapshots. */
  private int others;

  /** {@code maxStatements}: a group holds at most this many statements (a larger single write goes alone). */
  WriteQueue(int maxStatements) {
    this.maxStatements = maxStatements;
  }

  /**
   * Queues {@code w}, or folds it into the waiting snapshot it replaces (then false: {@code w} completes when that
   * one does, and nothing new waits in the queue).
   */
  boolean add(Write w) {
    if (w.snapshot()) {
      Statement s = w.statements().get(0);
      Write waiting = pendingSnapshots.get(s.key());
      if (waiting != null && waiting.statements().get(0).sql().equals(s.sql())) {
        waiting.statements().set(0, s);
        waiting.done().future().onComplete(w.done());
        return false;
      }
      pendingSnapshots.put(s.key(), w);
    } else if (!pendingSnapshots.isEmpty()) {
      // a later snapshot must not overtake this write: it queues behind it
      for (Statement s : w.statements()) pendingSnapshots.remove(s.key());
    }
    if (!w.snapshot()) others++;
    queue.add(w);
    return true;
  }

  boolean isEmpty() { return queue.isEmpty(); }

  /** Whether every queued write is a snapshot (true when the queue is empty). */
  boolean onlySnapshots() { return others == 0; }

  /** The queued writes the next transaction takes, in queue order (empty: none can start now). */
  List<Write> nextGroup() {
    List<Write> group = new ArrayList<>();
    int statements = 0;
    while (!queue.isEmpty() && (group.isEmpty() || statements + queue.peek().statements().size() <= maxStatements)
        && !touchesBusyKey(queue.peek())) {
      Write w = queue.poll();
      if (w.snapshot()) {
        pendingSnapshots.remove(w.statements().get(0).key(), w);
      } else {
        others--;
      }
      group.add(w);
      statements += w.statements().size();
    }
    return group;
  }

  private boolean touchesBusyKey(Write w) {
    if (busyKeys.isEmpty()) return false;
    for (Statement s : w.statements()) {
      if (busyKeys.containsKey(s.key())) return true;
    }
    return false;
  }

  /** Marks the keys of {@code group} in flight; returns them, for {@link #free} when its transaction has ended. */
  List<String> hold(List<Write> group) {
    List<String> keys = new ArrayList<>();
    for (Write w : group) {
      for (Statement s : w.statements()) keys.add(s.key());
    }
    keys.forEach(k -> busyKeys.merge(k, 1, Integer::sum));
    return keys;
  }

  /** The keys {@link #hold} returned: their transaction has ended. */
  void free(List<String> keys) {
    keys.forEach(k -> busyKeys.computeIfPresent(k, (key, n) -> n == 1 ? null : n - 1));
  }

  /** Takes every try-write (not durable) out of the queue, handing each to {@code removed}, in queue order. */
  void removeTryWrites(Consumer<Write> removed) {
    queue.removeIf(w -> {
      if (w.durable()) return false;
      if (w.snapshot()) {
        pendingSnapshots.remove(w.statements().get(0).key(), w);
      } else {
        others--;
      }
      removed.accept(w);
      return true;
    });
  }
}
