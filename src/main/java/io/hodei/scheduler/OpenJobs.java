package io.hodei.scheduler;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The jobs this scheduler holds: the open ones (queued, admitted, running), and the ones that ended here but whose
 * final write has not committed yet (reads still show their last committed state; reconciliation must not take them
 * for jobs it does not know). Confined to the scheduler's event loop.
 */
final class OpenJobs {
  private final Map<String, Job> open = new HashMap<>();
  private final Map<String, Job> finishing = new HashMap<>();
  /** Jobs whose final write committed while a reconciliation read was under way (null: none under way). */
  private Set<String> departed;
  /** Order of arrival, for FIFO among equal priorities. */
  private long sequence;

  /** Holds a job from now on, numbered in arrival order. */
  void add(Job job) {
    job.sequence = ++sequence;
    open.put(job.id, job);
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

  /** The open jobs as of now, to change while going through them. */
  List<Job> copy() { return List.copyOf(open.values()); }

  /** The job ended here: it is no longer open, and is held until its final write commits ({@link #ended}). */
  void ending(Job job) {
    open.remove(job.id);
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
