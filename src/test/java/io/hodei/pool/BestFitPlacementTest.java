package io.hodei.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BestFitPlacementTest {

  private static Pool pool(String id, String state) {
    Pool p = new Pool();
    p.id = id;
    p.state = state;
    return p;
  }

  private static Worker worker(Pool p, String id, WorkerState state, long cpuM, long memoryMb) {
    Worker w = new Worker();
    w.id = id;
    w.poolId = p.id;
    w.state = state;
    w.health = WorkerHealth.HEALTHY;
    w.cpuM = cpuM;
    w.memoryMb = memoryMb;
    p.workers.put(id, w);
    return w;
  }

  @Test
  void picksTheWorkerTheJobLeavesLeastSpareOn() {
    Pool a = pool("a", PoolLifecycle.ACTIVE);
    worker(a, "big", WorkerState.IDLE, 4000, 8192);
    Worker snug = worker(a, "snug", WorkerState.IDLE, 1000, 2048);
    worker(a, "medium", WorkerState.IDLE, 2000, 4096);

    BestFitPlacement.Placement placement = BestFitPlacement.choose(List.of(a), 1000, 1024);

    assertThat(placement.worker()).isSameAs(snug);
    assertThat(placement.pool()).isSameAs(a);
  }

  @Test
  void comparesAcrossCandidatePools() {
    Pool loose = pool("loose", PoolLifecycle.ACTIVE);
    worker(loose, "w1", WorkerState.IDLE, 8000, 8192);
    Pool tight = pool("tight", PoolLifecycle.CREATING);
    Worker exact = worker(tight, "w2", WorkerState.IDLE, 500, 512);

    BestFitPlacement.Placement placement = BestFitPlacement.choose(List.of(loose, tight), 500, 512);

    assertThat(placement.pool()).isSameAs(tight);
    assertThat(placement.worker()).isSameAs(exact);
  }

  @Test
  void spareCountsCpuAndMemoryShares() {
    Pool p = pool("p", PoolLifecycle.ACTIVE);
    // cpu-exact but memory-loose leaves 0 + 0.75; half-used on both leaves 0.5 + 0.5 = 1.0
    Worker cpuExact = worker(p, "cpu-exact", WorkerState.IDLE, 1000, 4096);
    worker(p, "half", WorkerState.IDLE, 2000, 2048);

    assertThat(BestFitPlacement.spare(cpuExact, 1000, 1024)).isEqualTo(0.75);
    assertThat(BestFitPlacement.choose(List.of(p), 1000, 1024).worker()).isSameAs(cpuExact);
  }

  @Test
  void skipsBusyDrainingUnhealthyAndTooSmallWorkers() {
    Pool p = pool("p", PoolLifecycle.ACTIVE);
    worker(p, "busy", WorkerState.BUSY, 1000, 1024);
    worker(p, "unhealthy", WorkerState.UNHEALTHY, 1000, 1024);
    worker(p, "provisioning", WorkerState.PROVISIONING, 1000, 1024);
    worker(p, "draining", WorkerState.IDLE, 1000, 1024).draining = true;
    worker(p, "small-cpu", WorkerState.IDLE, 999, 1024);
    worker(p, "small-memory", WorkerState.IDLE, 1000, 1023);

    assertThat(BestFitPlacement.choose(List.of(p), 1000, 1024)).isNull();

    Worker fits = worker(p, "roomy", WorkerState.IDLE, 4000, 4096);
    assertThat(BestFitPlacement.choose(List.of(p), 1000, 1024).worker()).isSameAs(fits);
  }

  @Test
  void skipsPoolsThatDoNotAcceptJobs() {
    for (String state : List.of(PoolLifecycle.PAUSED, PoolLifecycle.DRAINING, PoolLifecycle.STOPPED,
        PoolLifecycle.DELETING)) {
      Pool p = pool("p", state);
      worker(p, "w", WorkerState.IDLE, 1000, 1024);
      assertThat(BestFitPlacement.choose(List.of(p), 100, 100)).as(state).isNull();
    }
  }

  @Test
  void aTieGoesToTheFirstWorkerFound() {
    Pool first = pool("first", PoolLifecycle.ACTIVE);
    Worker one = worker(first, "one", WorkerState.IDLE, 2000, 2048);
    worker(first, "two", WorkerState.IDLE, 2000, 2048);
    Pool second = pool("second", PoolLifecycle.ACTIVE);
    worker(second, "three", WorkerState.IDLE, 2000, 2048);

    assertThat(BestFitPlacement.choose(List.of(first, second), 1000, 1024).worker()).isSameAs(one);
  }

  @Test
  void noCandidatesNoPlacement() {
    assertThat(BestFitPlacement.choose(List.of(), 1, 1)).isNull();
  }
}
