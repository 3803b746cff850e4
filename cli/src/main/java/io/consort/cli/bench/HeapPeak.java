package io.consort.cli.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * This JVM's heap high-water marks while a job runs: {@link #peak()}, the heap in use sampled every
 * 50 ms (live objects and garbage not yet collected, so it depends on the collector and on -Xmx), and
 * {@link #peakAfterGc()}, the largest heap in use right after any collection (the sum over the heap
 * pools of each collection's after-GC usage, from the collectors' notifications): what the JVM had to
 * keep, the retained heap's high-water mark at collection times.
 */
final class HeapPeak {
  private final AtomicLong peak = new AtomicLong();
  private final AtomicLong peakAfterGc = new AtomicLong();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onCollection;
  private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
      .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
  private volatile boolean running;
  private Thread thread;

  void start() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        emitters.add(emitter);
      }
    }
    running = true;
    thread = new Thread(() -> {
      while (running) {
        peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "bench-heap-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void onCollection(Notification n, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long after = 0;
    for (var pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(pool.getKey())) {
        MemoryUsage usage = pool.getValue();
        after += usage.getUsed();
      }
    }
    peakAfterGc.accumulateAndGet(after, Math::max);
  }

  void stop() throws InterruptedException {
    running = false;
    if (thread != null) {
      thread.join();
    }
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException e) {
        // not registered: nothing to remove
      }
    }
    emitters.clear();
  }

  /** Bytes: the largest sampled heap in use. */
  long peak() {
    return peak.get();
  }

  /** Bytes: the largest heap in use right after a collection; 0 if none ran. */
  long peakAfterGc() {
    return peakAfterGc.get();
  }

  /** Bytes: the heap's cap (-Xmx). */
  static long maxHeap() {
    return Runtime.getRuntime().maxMemory();
  }
}
