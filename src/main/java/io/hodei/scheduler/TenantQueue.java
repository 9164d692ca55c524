package io.hodei.scheduler;

import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.stream.Stream;

/**
 * One tenant's waiting jobs, as one priority queue (priority, then arrival) per pool selector. Jobs with the same
 * selector compete for the same pools: among them priority order is strict. A job that cannot be placed (its pools
 * are busy, paused or empty) holds back only jobs of its own selector, never the tenant's jobs for other pools: the
 * scheduler looks at the head of every selector queue (best-effort FIFO, as Kueue's {@code BestEffortFIFO}).
 * Confined to the scheduler's event loop.
 */
final class TenantQueue implements Iterable<Job> {
  /** The order within a selector queue: higher priority first, then arrival (FIFO). */
  static final Comparator<Job> ORDER = Comparator.<Job>comparingInt(j -> -j.priority)
      .thenComparingLong(j -> j.sequence);

  private final Map<String, PriorityQueue<Job>> bySelector = new LinkedHashMap<>();
  private int size;

  void add(Job job) {
    bySelector.computeIfAbsent(job.selectorKey(), k -> new PriorityQueue<>(ORDER)).add(job);
    size++;
  }

  /** Removes a waiting job (cancel, abandonment, placement); false when it was not waiting here. */
  boolean remove(Job job) {
    PriorityQueue<Job> queue = bySelector.get(job.selectorKey());
    if (queue == null) return false;
    boolean removed = queue.peek() == job ? queue.poll() != null : queue.remove(job);
    if (!removed) return false;
    size--;
    if (queue.isEmpty()) bySelector.remove(job.selectorKey());
    return true;
  }

  /** The selector queues: the head of each is a candidate for the next placement. */
  Collection<PriorityQueue<Job>> selectors() { return bySelector.values(); }

  /** Jobs ahead of {@code job} in its selector's queue (the ones it waits behind in its own tenant). */
  int ahead(Job job) {
    PriorityQueue<Job> queue = bySelector.get(job.selectorKey());
    if (queue == null) return 0;
    int ahead = 0;
    for (Job other : queue) if (other != job && ORDER.compare(other, job) < 0) ahead++;
    return ahead;
  }

  boolean isEmpty() { return size == 0; }

  int size() { return size; }

  Stream<Job> stream() { return bySelector.values().stream().flatMap(PriorityQueue::stream); }

  @Override
  public Iterator<Job> iterator() { return stream().iterator(); }
}
