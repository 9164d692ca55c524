package io.hodei.scheduler;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The jobs this scheduler holds: the open ones (queued, admitted, running), and the ones that ended here but whose
 * final write has not committed yet (reads still show their last committed state; reconciliation must not take them
 * for jobs it does not know). Confined to the scheduler's event loop.
 */
final class OpenJobs {
  private final Map<String, Job> open = new HashMap<>();
  /**
   * The open jobs known to be running, counted by tenant and by the pool they run on (the queue status answers from
   * these counts and goes through the other open jobs only: a node can hold a hundred thousand running jobs). A job
   * is counted from {@link #running} until {@link #notRunning} or {@link #ending}; every other open job, whatever
   * its state, is in {@link #uncounted}.
   */
  private final Map<Job, String> counted = new IdentityHashMap<>();
  private final Set<Job> uncounted = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<String, Integer> runningByTenant = new HashMap<>();
  private final Map<String, Integer> runningByPool = new HashMap<>();
  /** The open jobs with an SLA deadline (set before a job is held), the only ones the SLA check looks at. */
  private final Set<Job> withSla = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<String, Job> finishing = new HashMap<>();
  /** Jobs whose final write committed while a reconciliation read was under way (null: none under way). */
  private Set<String> departed;
  /** Order of arrival, for FIFO among equal priorities. */
  private long sequence;

  /** Holds a job from now on, numbered in arrival order. */
  void add(Job job) {
    job.sequence = ++sequence;
    Job replaced = open.put(job.id, job);
    if (replaced != null && replaced != job) forget(replaced);
    uncounted.add(job);
    if (job.slaDeadline != null) withSla.add(job);
  }

  /** The open jobs with an SLA deadline. */
  Collection<Job> withSla() { return Collections.unmodifiableCollection(withSla); }

  /** The open job began running (its placed pool set): counted from now on. */
  void running(Job job) {
    if (open.get(job.id) != job || !uncounted.remove(job)) return;
    String pool = job.placedPoolId == null ? "" : job.placedPoolId;
    counted.put(job, pool);
    runningByTenant.merge(job.tenantId, 1, Integer::sum);
    runningByPool.merge(pool, 1, Integer::sum);
  }

  /** The open job left running (a retry waits): no longer counted. */
  void notRunning(Job job) {
    if (open.get(job.id) != job) return;
    uncount(job);
    uncounted.add(job);
  }

  /** The open jobs not counted as running, of any state (running ones included until {@link #running}). */
  Collection<Job> uncounted() { return Collections.unmodifiableCollection(uncounted); }

  /** Running open jobs counted by {@link #running}, by tenant. */
  Map<String, Integer> runningByTenant() { return Collections.unmodifiableMap(runningByTenant); }

  /** Running open jobs counted by {@link #running}, by pool ("" for a job with no placed pool). */
  Map<String, Integer> runningByPool() { return Collections.unmodifiableMap(runningByPool); }

  private void uncount(Job job) {
    String pool = counted.remove(job);
    if (pool == null) return;
    runningByTenant.computeIfPresent(job.tenantId, (t, n) -> n == 1 ? null : n - 1);
    runningByPool.computeIfPresent(pool, (p, n) -> n == 1 ? null : n - 1);
  }

  private void forget(Job job) {
    uncount(job);
    uncounted.remove(job);
    withSla.remove(job);
  }

  /** The open job, or null. */
  Job get(String id) { return open.get(id); }

  /** The open job, or the ended one whose final write has not committed yet, or null. */
  Job held(String id) {
    Job job = open.get(id);
    return job != null ? job : finishing.get(id);
  }

  /** Whether a job read from the database is one this scheduler holds (open or ending) or ended meanwhile. */
  boolean knows(String id, Set<String> endedMeanwhile) {
    return open.containsKey(id) || finishing.containsKey(id) || endedMeanwhile.contains(id);
  }

  /** The open jobs (read only, live). */
  Collection<Job> all() { return Collections.unmodifiableCollection(open.values()); }

  /** The job ended here: it is no longer open, and is held until its final write commits ({@link #ended}). */
  void ending(Job job) {
    Job removed = open.remove(job.id);
    if (removed != null && removed != job) forget(removed);
    forget(job);
    finishing.put(job.id, job);
  }

  /** The final write of an ending job committed (or the database refused it). */
  void ended(Job job) {
    finishing.remove(job.id);
    if (departed != null) departed.add(job.id);
  }

  /** A reconciliation read begins: jobs that end from now on are noted, see {@link #stopNoting}. */
  void noteDepartures() { departed = new HashSet<>(); }

  /** The reconciliation read is over: the jobs that ended while it ran. */
  Set<String> stopNoting() {
    Set<String> ended = departed;
    departed = null;
    return ended;
  }
}
