package io.hodei.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.hodei.store.GroupCommit.Statement;
import io.hodei.store.WriteQueue.Write;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which queued writes the next transaction takes: entity order, statement budget, snapshot replacement. */
class WriteQueueTest {
  private static final String SQL = "UPDATE t SET v = $2 WHERE k = $1";
  private long seq;

  private Write write(boolean durable, String... keys) {
    List<Statement> statements = new ArrayList<>();
    for (String k : keys) statements.add(Statement.of(k, SQL, Tuple.of(k, seq)));
    return new Write(statements, Promise.promise(), durable, ++seq);
  }

  private Write snapshot(String key, int value) {
    return new Write(new ArrayList<>(List.of(Statement.of(key, SQL, Tuple.of(key, value)))), Promise.promise(), true,
        ++seq, true);
  }

  @Test
  void aGroupStopsAtTheFirstWriteAboutAKeyInFlightAndAtTheStatementBudget() {
    WriteQueue queue = new WriteQueue(3);
    Write a = write(true, "a");
    Write bc = write(true, "b", "c");
    Write d = write(true, "d");
    queue.add(a);
    queue.add(bc);
    queue.add(d);
    assertThat(queue.nextGroup()).containsExactly(a, bc); // d would make four statements
    List<String> held = queue.hold(List.of(a, bc));
    Write b2 = write(true, "b");
    queue.add(b2);
    assertThat(queue.nextGroup()).containsExactly(d); // b2 waits: b is in flight, and nothing overtakes b2
    Write e = write(true, "e");
    queue.add(e);
    assertThat(queue.nextGroup()).isEmpty();
    queue.free(held);
    assertThat(queue.nextGroup()).containsExactly(b2, e);
    assertThat(queue.isEmpty()).isTrue();
  }

  @Test
  void aKeyHeldByTwoTransactionsStaysBusyUntilBothEnd() {
    WriteQueue queue = new WriteQueue(10);
    Write first = write(true, "a");
    Write second = write(true, "a");
    List<String> one = queue.hold(List.of(first));
    List<String> two = queue.hold(List.of(second));
    Write third = write(true, "a");
    queue.add(third);
    queue.free(one);
    assertThat(queue.nextGroup()).isEmpty();
    queue.free(two);
    assertThat(queue.nextGroup()).containsExactly(third);
  }

  @Test
  void aWaitingSnapshotIsReplacedByALaterOneUnlessAnotherWriteOfItsKeyCameBetween() {
    WriteQueue queue = new WriteQueue(10);
    Write s1 = snapshot("k", 1);
    Write s2 = snapshot("k", 2);
    assertThat(queue.add(s1)).isTrue();
    assertThat(queue.add(s2)).isFalse();
    Write other = write(true, "k");
    assertThat(queue.add(other)).isTrue();
    Write s3 = snapshot("k", 3);
    assertThat(queue.add(s3)).isTrue();
    List<Write> group = queue.nextGroup();
    assertThat(group).containsExactly(s1, other, s3);
    assertThat(s1.statements().get(0).args().getInteger(1)).isEqualTo(2);
    s1.done().complete();
    assertThat(s2.done().future().succeeded()).isTrue();
    // taken out of the queue, a snapshot is no longer replaced
    Write s4 = snapshot("k", 4);
    assertThat(queue.add(s4)).isTrue();
    assertThat(s3.statements().get(0).args().getInteger(1)).isEqualTo(3);
  }

  @Test
  void tryWritesAreTakenOutInQueueOrderAndDurableOnesStay() {
    WriteQueue queue = new WriteQueue(10);
    Write durable = write(true, "a");
    Write try1 = write(false, "b");
    Write try2 = write(false, "c");
    queue.add(try1);
    queue.add(durable);
    queue.add(try2);
    List<Write> removed = new ArrayList<>();
    queue.removeTryWrites(removed::add);
    assertThat(removed).containsExactly(try1, try2);
    assertThat(queue.nextGroup()).containsExactly(durable);
  }

  @Test
  void theQueueKnowsWhetherOnlySnapshotsWaitWhateverWayWritesLeaveIt() {
    WriteQueue queue = new WriteQueue(10);
    assertThat(queue.onlySnapshots()).isTrue();
    queue.add(snapshot("a", 1));
    assertThat(queue.onlySnapshots()).isTrue();
    Write plain = write(true, "b");
    queue.add(plain);
    assertThat(queue.onlySnapshots()).isFalse();
    queue.add(snapshot("a", 2)); // folded into the waiting one
    assertThat(queue.onlySnapshots()).isFalse();
    assertThat(queue.nextGroup()).hasSize(2);
    assertThat(queue.onlySnapshots()).isTrue();
    Write tryWrite = write(false, "c");
    queue.add(tryWrite);
    queue.add(snapshot("d", 1));
    assertThat(queue.onlySnapshots()).isFalse();
    List<Write> removed = new ArrayList<>();
    queue.removeTryWrites(removed::add);
    assertThat(removed).containsExactly(tryWrite);
    assertThat(queue.onlySnapshots()).isTrue();
    assertThat(queue.isEmpty()).isFalse();
  }
}
