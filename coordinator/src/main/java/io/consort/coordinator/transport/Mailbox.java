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
 */
public final class Mailbox {
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

  /** Removes undelivered tasks of a stage that has closed, so a late bank does not run them. */
  public void withdraw(Header header) {
    queued.removeIf(t -> t.getHeader().equals(header));
  }

  /**
   * The bank's next task, waiting up to {@code waitMillis} for one. A bank that polls again while
   * an earlier poll is still open (its connection dropped) gets the earlier poll answered with
   * {@code Wait} so nothing is handed to a dead stream.
   */
  public Future<Task> poll(long waitMillis) {
    Task next = queued.poll();
    if (next != null) {
      return Future.succeededFuture(next);
    }
    if (waiting != null) {
      takeWaiting().complete(waitTask(0));
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
