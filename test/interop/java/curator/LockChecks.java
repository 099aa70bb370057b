// Curator's locks: InterProcessMutex (ephemeral-sequential nodes, each waiter watching its
// predecessor), InterProcessSemaphoreV2 (leases under a lock) and InterProcessReadWriteLock.
// Contention runs on separate clients (separate sessions) in separate threads; mutual
// exclusion is checked by a shared in-JVM counter of current holders.
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;

final class LockChecks {
  private LockChecks() {}

  /** Tracks how many threads are inside a critical section at once. */
  static final class Occupancy {
    final AtomicInteger now = new AtomicInteger();
    final AtomicInteger max = new AtomicInteger();
    final AtomicInteger entries = new AtomicInteger();

    void enter() {
      int n = now.incrementAndGet();
      max.accumulateAndGet(n, Math::max);
      entries.incrementAndGet();
    }

    void leave() {
      now.decrementAndGet();
    }
  }

  /** A task that may throw. */
  interface Task {
    void run(int worker) throws Exception;
  }

  /** Runs `task` on `n` threads at once and rethrows the first failure; bounded by `timeoutMs`. */
  static void inParallel(int n, long timeoutMs, Task task) throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int worker = i;
        fs.add(ex.submit(() -> {
          go.await();
          task.run(worker);
          return null;
        }));
      }
      go.countDown();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      for (Future<?> f : fs) {
        try {
          f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
          throw (e.getCause() instanceof Exception) ? (Exception) e.getCause() : e;
        }
      }
    } finally {
      ex.shutdownNow();
    }
  }

  static String mutex(CuratorRecipes.Ctx ctx) throws Exception {
    int clients = 3;
    int rounds = 5;
    String path = ctx.path("lock");
    List<InterProcessMutex> locks = new ArrayList<>();
    for (int i = 0; i < clients; i++) locks.add(new InterProcessMutex(ctx.client(), path));
    Occupancy occ = new Occupancy();
    inParallel(clients, 25_000, w -> {
      InterProcessMutex m = locks.get(w);
      for (int r = 0; r < rounds; r++) {
        CuratorRecipes.expect(m.acquire(10, TimeUnit.SECONDS), "acquire within 10 s");
        try {
          occ.enter();
          Thread.sleep(10);
          occ.leave();
        } finally {
          m.release();
        }
      }
    });
    // Reentrancy is client-side: one node, counted twice.
    InterProcessMutex m = locks.get(0);
    CuratorRecipes.expect(m.acquire(5, TimeUnit.SECONDS) && m.acquire(5, TimeUnit.SECONDS), "reentrant acquire");
    int nodesWhileHeld = m.getParticipantNodes().size();
    m.release();
    boolean stillHeld = m.isAcquiredInThisProcess();
    m.release();
    CuratorFramework c = ctx.client();
    int leftover = c.checkExists().forPath(path) == null ? 0 : c.getChildren().forPath(path).size();
    return "clients=" + clients + " acquisitions=" + occ.entries.get() + " maxHolders=" + occ.max.get()
        + " reentrantNodes=" + nodesWhileHeld + " heldAfterOneRelease=" + stillHeld + " leftover=" + leftover;
  }

  /** A holder's session closing frees the lock: its ephemeral node goes, the waiter's watch fires. */
  static String mutexSessionClose(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("lock");
    CuratorFramework holderClient = ctx.client();
    InterProcessMutex holder = new InterProcessMutex(holderClient, path);
    InterProcessMutex waiter = new InterProcessMutex(ctx.client(), path);
    CuratorRecipes.expect(holder.acquire(5, TimeUnit.SECONDS), "holder acquires");
    boolean timedOut = !waiter.acquire(300, TimeUnit.MILLISECONDS);
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      // A mutex belongs to the thread that acquired it, so that thread releases it too.
      Future<Boolean> waiting = ex.submit(() -> {
        boolean got = waiter.acquire(10, TimeUnit.SECONDS);
        if (got) waiter.release();
        return got;
      });
      Thread.sleep(200); // let the waiter create its node and watch the holder's
      holderClient.close(); // closeSession: the server deletes the holder's lock node
      boolean acquired = waiting.get(12, TimeUnit.SECONDS);
      return "waiterTimedOut=" + timedOut + " acquiredAfterHolderSessionClosed=" + acquired;
    } finally {
      ex.shutdownNow();
    }
  }

  static String semaphore(CuratorRecipes.Ctx ctx) throws Exception {
    int maxLeases = 2;
    int workers = 4;
    int rounds = 3;
    String path = ctx.path("sem");
    List<InterProcessSemaphoreV2> sems = new ArrayList<>();
    for (int i = 0; i < workers; i++) sems.add(new InterProcessSemaphoreV2(ctx.client(), path, maxLeases));
    Occupancy occ = new Occupancy();
    inParallel(workers, 25_000, w -> {
      for (int r = 0; r < rounds; r++) {
        Lease lease = sems.get(w).acquire(10, TimeUnit.SECONDS);
        CuratorRecipes.expect(lease != null, "lease within 10 s");
        try {
          occ.enter();
          Thread.sleep(30);
          occ.leave();
        } finally {
          sems.get(w).returnLease(lease);
        }
      }
    });
    // With both leases held, a third acquire times out; returning one lets it through.
    Lease a = sems.get(0).acquire(5, TimeUnit.SECONDS);
    Lease b = sems.get(1).acquire(5, TimeUnit.SECONDS);
    CuratorRecipes.expect(a != null && b != null, "two leases");
    Lease none = sems.get(2).acquire(300, TimeUnit.MILLISECONDS);
    sems.get(0).returnLease(a);
    Lease c = sems.get(2).acquire(5, TimeUnit.SECONDS);
    boolean third = c != null;
    if (c != null) sems.get(2).returnLease(c);
    sems.get(1).returnLease(b);
    if (none != null) sems.get(2).returnLease(none);
    return "leases=" + maxLeases + " acquisitions=" + occ.entries.get() + " maxConcurrentAtMostLeases=" + (occ.max.get() <= maxLeases)
        + " thirdBlockedWhileFull=" + (none == null) + " thirdAfterReturn=" + third;
  }

  static String readWriteLock(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("rw");
    InterProcessReadWriteLock r1 = new InterProcessReadWriteLock(ctx.client(), path);
    InterProcessReadWriteLock r2 = new InterProcessReadWriteLock(ctx.client(), path);
    InterProcessReadWriteLock w = new InterProcessReadWriteLock(ctx.client(), path);
    List<String> out = new ArrayList<>();
    CuratorRecipes.expect(r1.readLock().acquire(5, TimeUnit.SECONDS), "first reader");
    out.add("sharedRead=" + r2.readLock().acquire(5, TimeUnit.SECONDS));
    out.add("writerBlockedByReaders=" + !w.writeLock().acquire(300, TimeUnit.MILLISECONDS));
    // The writer's thread: a Curator lock belongs to the thread that acquired it.
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      Future<Boolean> writer = ex.submit(() -> w.writeLock().acquire(10, TimeUnit.SECONDS));
      Thread.sleep(100);
      r1.readLock().release();
      r2.readLock().release();
      out.add("writerAfterReaders=" + writer.get(12, TimeUnit.SECONDS));
      out.add("readerBlockedByWriter=" + !r1.readLock().acquire(300, TimeUnit.MILLISECONDS));
      // The write lock holder may also read (downgrade), as Curator documents.
      out.add("writerMayRead=" + ex.submit(() -> w.readLock().acquire(5, TimeUnit.SECONDS)).get(6, TimeUnit.SECONDS));
      ex.submit(() -> {
        w.readLock().release();
        w.writeLock().release();
        return null;
      }).get(5, TimeUnit.SECONDS);
      out.add("readerAfterWriter=" + r1.readLock().acquire(5, TimeUnit.SECONDS));
      r1.readLock().release();
    } finally {
      ex.shutdownNow();
    }
    return String.join(" ", out);
  }
}
