// Curator's shared-state recipes: DistributedAtomicLong (optimistic setData with version, then
// a lock when contended), SharedCount (versioned value plus a data watch), DistributedQueue
// (persistent-sequential items, a getChildren watch, delete to take), and the barriers
// (DistributedBarrier: exists watch on one node; DistributedDoubleBarrier: ephemerals, a
// "ready" node and exists watches).
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;

final class SharedChecks {
  private SharedChecks() {}

  static String atomicLong(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("counter");
    int clients = 3;
    int increments = 10;
    List<DistributedAtomicLong> counters = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      // Optimistic tries first, then promoted to a mutex under contention (both bounded).
      counters.add(new DistributedAtomicLong(ctx.client(), path, new RetryNTimes(20, 10),
          PromotedToLock.builder().lockPath(ctx.path("counter-lock")).retryPolicy(new RetryNTimes(20, 10)).timeout(5, TimeUnit.SECONDS).build()));
    }
    LockChecks.inParallel(clients, 25_000, w -> {
      for (int i = 0; i < increments; i++) {
        AtomicValue<Long> v = counters.get(w).increment();
        CuratorRecipes.expect(v.succeeded(), "increment succeeded");
      }
    });
    long total = counters.get(0).get().postValue();
    AtomicValue<Long> stale = counters.get(1).compareAndSet(0L, 100L);
    AtomicValue<Long> fresh = counters.get(1).compareAndSet(total, 100L);
    return "total=" + total + " casStale=" + stale.succeeded() + " casFresh=" + fresh.succeeded() + " after=" + counters.get(2).get().postValue();
  }

  static String sharedCount(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("count");
    SharedCount a = ctx.closeLater(new SharedCount(ctx.client(), path, 5));
    SharedCount b = ctx.closeLater(new SharedCount(ctx.client(), path, 99)); // seed ignored: the node exists
    BlockingQueue<Integer> seenByB = new LinkedBlockingQueue<>();
    b.addListener(new SharedCountListener() {
      @Override
      public void countHasChanged(org.apache.curator.framework.recipes.shared.SharedCountReader r, int n) {
        seenByB.add(n);
      }

      @Override
      public void stateChanged(CuratorFramework client, ConnectionState state) {}
    });
    a.start();
    b.start();
    List<String> out = new ArrayList<>();
    out.add("seed=" + b.getCount());
    VersionedValue<Integer> v = a.getVersionedValue();
    out.add("trySet=" + a.trySetCount(v, 6));
    out.add("staleTrySet=" + a.trySetCount(v, 7)); // same version again: BADVERSION underneath
    out.add("bSees=" + CuratorRecipes.next(seenByB, "count change on b", 5000));
    b.setCount(10);
    CuratorRecipes.await("a sees 10", 5000, () -> a.getCount() == 10);
    out.add("aSees=" + a.getCount());
    return String.join(" ", out);
  }

  static String queue(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("queue");
    int items = 10;
    BlockingQueue<String> consumed = new LinkedBlockingQueue<>();
    QueueSerializer<String> ser = new QueueSerializer<String>() {
      @Override
      public byte[] serialize(String item) {
        return item.getBytes(UTF_8);
      }

      @Override
      public String deserialize(byte[] bytes) {
        return new String(bytes, UTF_8);
      }
    };
    QueueConsumer<String> consumer = new QueueConsumer<String>() {
      @Override
      public void consumeMessage(String message) {
        consumed.add(message);
      }

      @Override
      public void stateChanged(CuratorFramework client, ConnectionState state) {}
    };
    // The producer's queue has no consumer (a null consumer makes it put-only).
    DistributedQueue<String> producer = ctx.closeLater(QueueBuilder.builder(ctx.client(), null, ser, path).buildQueue());
    producer.start();
    for (int i = 0; i < items; i++) producer.put("item-" + i);
    DistributedQueue<String> reader = ctx.closeLater(QueueBuilder.builder(ctx.client(), consumer, ser, path).buildQueue());
    reader.start();
    List<String> got = new ArrayList<>();
    for (int i = 0; i < items; i++) got.add(CuratorRecipes.next(consumed, "item " + i, 5000));
    // Items put while the consumer runs arrive through its getChildren watch.
    producer.put("late");
    got.add(CuratorRecipes.next(consumed, "late item", 5000));
    boolean inOrder = true;
    for (int i = 0; i < items; i++) if (!got.get(i).equals("item-" + i)) inOrder = false;
    CuratorFramework c = ctx.client();
    CuratorRecipes.await("queue drained", 5000, () -> {
      try {
        return c.getChildren().forPath(path).isEmpty();
      } catch (Exception e) {
        return false;
      }
    });
    return "consumed=" + got.size() + " fifo=" + inOrder + " last=" + got.get(items) + " drained=true";
  }

  static String barrier(CuratorRecipes.Ctx ctx) throws Exception {
    List<String> out = new ArrayList<>();
    String path = ctx.path("gate");
    DistributedBarrier setter = new DistributedBarrier(ctx.client(), path);
    DistributedBarrier waiter = new DistributedBarrier(ctx.client(), path);
    setter.setBarrier();
    out.add("blocked=" + !waiter.waitOnBarrier(300, TimeUnit.MILLISECONDS));
    ExecutorService ex = Executors.newFixedThreadPool(3);
    try {
      Future<Boolean> w = ex.submit(() -> waiter.waitOnBarrier(10, TimeUnit.SECONDS));
      Thread.sleep(100);
      setter.removeBarrier();
      out.add("released=" + w.get(12, TimeUnit.SECONDS));

      // Double barrier: nobody passes enter() until all three are in; all leave together.
      int members = 3;
      String dpath = ctx.path("double");
      List<DistributedDoubleBarrier> db = new ArrayList<>();
      for (int i = 0; i < members; i++) db.add(new DistributedDoubleBarrier(ctx.client(), dpath, members));
      List<Future<Boolean>> entered = new ArrayList<>();
      for (DistributedDoubleBarrier d : db) entered.add(ex.submit(() -> d.enter(10, TimeUnit.SECONDS)));
      boolean allIn = true;
      for (Future<Boolean> f : entered) allIn &= f.get(12, TimeUnit.SECONDS);
      out.add("allEntered=" + allIn);
      List<Future<Boolean>> left = new ArrayList<>();
      for (DistributedDoubleBarrier d : db) left.add(ex.submit(() -> d.leave(10, TimeUnit.SECONDS)));
      boolean allOut = true;
      for (Future<Boolean> f : left) allOut &= f.get(12, TimeUnit.SECONDS);
      out.add("allLeft=" + allOut);
    } finally {
      ex.shutdownNow();
    }
    return String.join(" ", out);
  }
}
