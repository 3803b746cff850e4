package io.consort.coordinator.transport;

import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.Wait;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Tasks waiting for one bank. Banks dial out only, so the coordinator cannot push: it queues the
 * bank's tasks here, and the bank's long-poll {@code PullTask} takes them. Used only on the
 * coordinator's event loop.
 *
 * <p>A task leaves the mailbox only into a poll that can still answer: a poll whose call was
 * cancelled or whose connection closed is {@linkplain #cancel cancelled} first, and a task that
 * could not be written after all is put back at the front ({@link #requeue}), so no task is lost
 * to a vanished connection.
 */
public final class Mailbox {
  /** What a poll that another poll of the same bank replaced is told: come back in a second, not at once. */
  static final int SUPERSEDED_RETRY_MILLIS = 1_000;

  private final Vertx vertx;
  private final Deque<Task> queued = new ArrayDeque<>();
  private Promise<Task> waiting;
  private long waitTimer = -1;

  public Mailbox(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Queues a task, or hands it straight to a bank that is already waiting. */
  public void post(Task task) {
    if (waiting != null) {
      Promise<Task> p = takeWaiting();
      p.complete(task);
    } else {
      queued.add(task);
    }
  }

  /** Puts back, at the front, a task that was handed to a poll but could not be written to the bank. */
  public void requeue(Task task) {
    if (!task.hasWait()) {
      queued.addFirst(task);
    }
  }

  /** Removes undelivered tasks of a stage that has closed, so a late bank does not run them. */
  public void withdraw(Header header) {
    queued.removeIf(t -> t.getHeader().equals(header));
  }

  /** How many tasks wait for the bank's next poll. */
  public int queued() {
    return queued.size();
  }

  /**
   * The bank's next task, waiting up to {@code waitMillis} for one. A bank that polls again while
   * an earlier poll is still open gets the earlier poll answered with {@code Wait} (retry after a
   * second, so two polls cannot answer each other in a busy loop) and nothing is handed to it.
   */
  public Future<Task> poll(long waitMillis) {
    Task next = queued.poll();
    if (next != null) {
      return Future.succeededFuture(next);
    }
    if (waiting != null) {
      takeWaiting().complete(waitTask(SUPERSEDED_RETRY_MILLIS));
    }
    Promise<Task> p = Promise.promise();
    waiting = p;
    waitTimer = vertx.setTimer(Math.max(1, waitMillis), id -> {
      if (waiting == p) {
        waiting = null;
        waitTimer = -1;
        p.complete(waitTask(0));
      }
    });
    return p.future();
  }

  /**
   * The poll that returned {@code poll} can no longer answer (its call was cancelled, its
   * connection closed): it gets nothing more, and tasks posted from now on wait in the queue.
   */
  public void cancel(Future<Task> poll) {
    if (waiting != null && waiting.future() == poll) {
      takeWaiting().tryFail("the poll's call ended before a task arrived");
    }
  }

  /** Cancels whatever poll is open (the bank's connection closed). */
  public void cancelWaiting() {
    if (waiting != null) {
      takeWaiting().tryFail("the bank's connection closed");
    }
  }

  private Promise<Task> takeWaiting() {
    Promise<Task> p = waiting;
    waiting = null;
    if (waitTimer >= 0) {
      vertx.cancelTimer(waitTimer);
      waitTimer = -1;
    }
    return p;
  }

  private static Task waitTask(int retryAfterMillis) {
    return Task.newBuilder().setWait(Wait.newBuilder().setRetryAfterMillis(retryAfterMillis)).build();
  }
}
