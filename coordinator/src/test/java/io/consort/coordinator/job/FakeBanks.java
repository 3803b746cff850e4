package io.consort.coordinator.job;

import io.consort.coordinator.transport.Members;
import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Enrolled banks without a network. Each bank has a responder that turns a task into its answer (or
 * none: it stays silent); answers are queued and delivered to the stage collector by {@link #pump},
 * as a real bank's reply would arrive later on the event loop.
 */
final class FakeBanks implements Members {
  private final Map<String, Function<Task, Optional<TaskResult.Builder>>> responders = new LinkedHashMap<>();
  private final Set<String> disconnected = new HashSet<>();
  private final Map<String, X509Certificate> certificates = new LinkedHashMap<>();
  private final Deque<Map.Entry<String, TaskResult>> replies = new ArrayDeque<>();
  final List<Map.Entry<String, Task>> posted = new ArrayList<>();
  final List<Map.Entry<String, Header>> withdrawn = new ArrayList<>();

  FakeBanks bank(String id, Function<Task, Optional<TaskResult.Builder>> responder) {
    responders.put(id, responder);
    return this;
  }

  FakeBanks certificate(String id, X509Certificate certificate) {
    certificates.put(id, certificate);
    return this;
  }

  void disconnect(String id) {
    disconnected.add(id);
  }

  /** Delivers queued answers (and those they lead to) until none is left; returns how many. */
  int pump(StageCollector stages) {
    int delivered = 0;
    while (!replies.isEmpty()) {
      Map.Entry<String, TaskResult> reply = replies.poll();
      stages.accept(reply.getKey(), reply.getValue());
      delivered++;
    }
    return delivered;
  }

  @Override
  public Set<String> members() {
    return new LinkedHashSet<>(responders.keySet());
  }

  @Override
  public boolean isEnrolled(String memberId) {
    return responders.containsKey(memberId);
  }

  @Override
  public boolean isConnected(String memberId) {
    return isEnrolled(memberId) && !disconnected.contains(memberId);
  }

  @Override
  public Optional<X509Certificate> certificate(String memberId) {
    return Optional.ofNullable(certificates.get(memberId));
  }

  @Override
  public void post(String memberId, Task task) {
    posted.add(Map.entry(memberId, task));
    responders.get(memberId).apply(task)
        .ifPresent(r -> replies.add(Map.entry(memberId, r.setHeader(task.getHeader()).build())));
  }

  @Override
  public void withdraw(String memberId, Header header) {
    withdrawn.add(Map.entry(memberId, header));
  }
}
