package io.consort.coordinator.job;

import io.consort.coordinator.transport.Members;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one open stage of a job. {@link #collect} posts a task to each bank asked and completes when
 * every one of them has answered, or has disconnected, or the stage's deadline has passed; then the
 * stage closes and undelivered tasks are withdrawn. A result that does not answer the open stage
 * (another job, an earlier round or stage, a bank not asked, a second answer) is refused by name and
 * changes nothing. Event-loop only.
 */
public final class StageCollector {
  private static final Logger log = LoggerFactory.getLogger(StageCollector.class);

  private final String jobId;
  private final Members members;
  private final Timers timers;
  private final Duration deadline;
  private OpenStage open;
  private Function<Header, Future<Void>> beforeOpen = h -> Future.succeededFuture();

  /**
   * Runs {@code step} as each stage opens, before any of its tasks is posted (write-ahead: what is
   * recorded there, a crash cannot outrun). The stage's tasks go out when it completes, failed or not.
   */
  public void beforeOpen(Function<Header, Future<Void>> step) {
    beforeOpen = step;
  }

  /** Why no stage opens any more (the job was cancelled or is stopping), or null. */
  private RuntimeException abandoned;

  public StageCollector(String jobId, Members members, Timers timers, Duration deadline) {
    this.jobId = jobId;
    this.members = members;
    this.timers = timers;
    this.deadline = deadline;
  }

  /** The open stage as the operator sees it: its header and the banks it still waits for. */
  public record OpenStageView(Header header, List<String> awaiting) {}

  private static final class OpenStage {
    final Header header;
    final List<String> asked;
    final Map<String, TaskResult> answers = new LinkedHashMap<>();
    final Set<String> gone = new LinkedHashSet<>();
    final Promise<StageAnswers> done = Promise.promise();
    long timer = -1;
    /** Its tasks went out (after the write-ahead step). */
    boolean posted;

    OpenStage(Header header, List<String> asked) {
      this.header = header;
      this.asked = asked;
    }

    boolean complete() {
      return answers.size() + gone.size() >= asked.size();
    }
  }

  /**
   * Opens a stage (closing none: stages of one job run one after another) and asks each bank for
   * its answer; a bank that is not connected counts as gone at once.
   */
  public Future<StageAnswers> collect(int round, Stage stage, Collection<String> asked,
                                      Function<String, Task.Builder> taskFor) {
    if (abandoned != null) {
      return Future.failedFuture(abandoned);
    }
    if (open != null) {
      throw new IllegalStateException("stage " + Headers.describe(open.header) + " is still open");
    }
    Header header = Headers.of(jobId, round, stage);
    OpenStage stageState = new OpenStage(header, List.copyOf(new LinkedHashSet<>(asked)));
    open = stageState;
    beforeOpen.apply(header).onComplete(x -> {
      if (open == stageState) {
        post(stageState, taskFor);
      }
    });
    return stageState.done.future();
  }

  private void post(OpenStage stageState, Function<String, Task.Builder> taskFor) {
    Header header = stageState.header;
    stageState.posted = true;
    for (String m : stageState.asked) {
      if (members.isConnected(m)) {
        members.post(m, taskFor.apply(m).setHeader(header).build());
      } else {
        stageState.gone.add(m);
      }
    }
    if (stageState.complete()) {
      close(stageState);
    } else {
      stageState.timer = timers.schedule(deadline.toMillis(), () -> close(stageState));
    }
  }

  /** The open stage, if one is open and its tasks have gone out. */
  public Optional<OpenStageView> open() {
    OpenStage s = open;
    if (s == null || !s.posted) {
      return Optional.empty();
    }
    List<String> awaiting = new ArrayList<>();
    for (String m : s.asked) {
      if (!s.answers.containsKey(m) && !s.gone.contains(m)) {
        awaiting.add(m);
      }
    }
    return Optional.of(new OpenStageView(s.header, awaiting));
  }

  /**
   * Accepts one authenticated bank's result.
   *
   * @throws ProtocolViolationException naming the problem when it does not answer the open stage
   */
  public void accept(String memberId, TaskResult result) {
    Header h = result.getHeader();
    if (!h.getJobId().equals(jobId)) {
      throw new ProtocolViolationException("unknown job '" + h.getJobId() + "'");
    }
    OpenStage s = open;
    if (s == null) {
      throw new ProtocolViolationException("result for " + Headers.describe(h) + " arrived while no stage is open");
    }
    Headers.require(h, s.header.getJobId(), s.header.getRound(), s.header.getStage());
    if (!s.asked.contains(memberId)) {
      throw new ProtocolViolationException("bank '" + memberId + "' was not asked for " + Headers.describe(h));
    }
    if (s.answers.putIfAbsent(memberId, result) != null) {
      throw new ProtocolViolationException("bank '" + memberId + "' already answered " + Headers.describe(h));
    }
    s.gone.remove(memberId);
    if (s.complete()) {
      close(s);
    }
  }

  /** A bank whose connection closed cannot answer the open stage: stop waiting for it. */
  public void disconnected(String memberId) {
    OpenStage s = open;
    if (s != null && s.asked.contains(memberId) && !s.answers.containsKey(memberId) && s.gone.add(memberId)) {
      log.warn("bank '{}' disconnected during {}", memberId, Headers.describe(s.header));
      if (s.complete()) {
        close(s);
      }
    }
  }

  /**
   * Ends the open stage, if any, without its answers: its tasks are withdrawn and whoever waits for
   * it fails with {@code cause} (a cancelled or stopping job); no stage opens after it.
   */
  public void abandon(RuntimeException cause) {
    abandoned = cause;
    OpenStage s = open;
    if (s == null) {
      return;
    }
    open = null;
    if (s.timer >= 0) {
      timers.cancel(s.timer);
    }
    withdraw(s);
    s.done.tryFail(cause);
  }

  private void withdraw(OpenStage s) {
    for (String m : s.asked) {
      if (members.isEnrolled(m)) {
        members.withdraw(m, s.header);
      }
    }
  }

  private void close(OpenStage s) {
    if (open == s) {
      open = null;
    }
    if (s.timer >= 0) {
      timers.cancel(s.timer);
    }
    withdraw(s);
    s.done.tryComplete(new StageAnswers(s.header, s.asked, s.answers, s.gone));
  }
}
