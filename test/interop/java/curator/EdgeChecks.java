// The harder paths recipes take: watch removal (removeWatches, NOWATCHER), many contenders on
// one lock, the lock variants built on semaphores and on several mutexes, GroupMember and
// TreeCache, a transaction of hundreds of operations, and a session that dies without closing
// (the server must expire it, delete its ephemerals and fire the watches that hand leadership on).
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

final class EdgeChecks {
  private EdgeChecks() {}

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static String removeWatches(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    List<String> out = new ArrayList<>();
    String x = ctx.path("x");
    c.create().creatingParentContainersIfNeeded().forPath(x, b("0"));
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    Watcher w = e -> ev.add(e.getType() + ":" + e.getPath().substring(ctx.root.length()));
    c.getData().usingWatcher(w).forPath(x);
    c.getChildren().usingWatcher(w).forPath(x);
    c.watchers().remove(w).ofType(Watcher.WatcherType.Data).forPath(x);
    out.add("dataRemoved=" + CuratorRecipes.next(ev, "DataWatchRemoved", 5000));
    c.setData().forPath(x, b("1"));
    c.create().forPath(x + "/kid");
    out.add("childStillArmed=" + CuratorRecipes.next(ev, "NodeChildrenChanged", 5000));
    out.add("nothingElse=" + ev.poll(300, TimeUnit.MILLISECONDS));
    try {
      c.watchers().remove(w).ofType(Watcher.WatcherType.Any).forPath(x);
      out.add("removeAbsent=ok");
    } catch (KeeperException e) {
      out.add("removeAbsent=" + e.code());
    }
    c.checkExists().usingWatcher(w).forPath(x + "/later");
    c.watchers().removeAll().ofType(Watcher.WatcherType.Any).forPath(x + "/later");
    out.add("removeAllEvent=" + CuratorRecipes.next(ev, "watch removed", 5000));
    c.create().forPath(x + "/later");
    out.add("afterRemoveAll=" + ev.poll(300, TimeUnit.MILLISECONDS));
    return String.join(" ", out);
  }

  static String manyContenders(CuratorRecipes.Ctx ctx) throws Exception {
    int clients = 8;
    List<CuratorFramework> cs = new ArrayList<>();
    for (int i = 0; i < clients; i++) cs.add(ctx.client());
    LockChecks.Occupancy mutex = new LockChecks.Occupancy();
    LockChecks.Occupancy semMutex = new LockChecks.Occupancy();
    LockChecks.Occupancy multi = new LockChecks.Occupancy();
    LockChecks.inParallel(clients, 25_000, w -> {
      InterProcessMutex m = new InterProcessMutex(cs.get(w), ctx.path("mutex"));
      InterProcessSemaphoreMutex sm = new InterProcessSemaphoreMutex(cs.get(w), ctx.path("semaphore-mutex"));
      InterProcessMultiLock ml = new InterProcessMultiLock(cs.get(w), Arrays.asList(ctx.path("multi-a"), ctx.path("multi-b")));
      for (int r = 0; r < 3; r++) {
        hold(m::acquire, m::release, mutex);
        hold(sm::acquire, sm::release, semMutex);
        hold(ml::acquire, ml::release, multi);
      }
    });
    return "clients=" + clients + " mutex=" + mutex.entries.get() + "/" + mutex.max.get()
        + " semaphoreMutex=" + semMutex.entries.get() + "/" + semMutex.max.get()
        + " multiLock=" + multi.entries.get() + "/" + multi.max.get();
  }

  /** A lock's acquire with a bound. */
  interface Acquire {
    boolean acquire(long time, TimeUnit unit) throws Exception;
  }

  /** A lock's release. */
  interface Release {
    void release() throws Exception;
  }

  static void hold(Acquire acquire, Release release, LockChecks.Occupancy occ) throws Exception {
    CuratorRecipes.expect(acquire.acquire(15, TimeUnit.SECONDS), "acquire within 15 s");
    try {
      occ.enter();
      Thread.sleep(2);
      occ.leave();
    } finally {
      release.release();
    }
  }

  static String groupMember(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("group");
    List<GroupMember> members = new ArrayList<>();
    for (String id : new String[] {"m1", "m2", "m3"}) {
      GroupMember g = ctx.closeLater(new GroupMember(ctx.client(), path, id, b("data-" + id)));
      g.start();
      members.add(g);
    }
    CuratorRecipes.await("all see three members", 10_000, () -> members.stream().allMatch(g -> g.getCurrentMembers().size() == 3));
    TreeMap<String, String> view = new TreeMap<>();
    members.get(0).getCurrentMembers().forEach((k, v) -> view.put(k, new String(v, UTF_8)));
    members.get(2).setThisData(b("changed"));
    CuratorRecipes.await("m1 sees m3's new data", 10_000,
        () -> "changed".equals(new String(members.get(0).getCurrentMembers().getOrDefault("m3", new byte[0]), UTF_8)));
    members.get(1).close();
    CuratorRecipes.await("m2 gone from the others' views", 10_000,
        () -> !members.get(0).getCurrentMembers().containsKey("m2") && !members.get(2).getCurrentMembers().containsKey("m2"));
    return "initial=" + view + " after=" + new TreeSet<>(members.get(0).getCurrentMembers().keySet());
  }

  @SuppressWarnings("deprecation") // TreeCache: deprecated in Curator 5, still widely used
  static String treeCache(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework w = ctx.client();
    String base = ctx.path("t");
    w.create().creatingParentContainersIfNeeded().forPath(base + "/a/b", b("1"));
    TreeCache cache = ctx.closeLater(TreeCache.newBuilder(ctx.client(), base).setCacheData(true).build());
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    List<String> initial = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch initialized = new CountDownLatch(1);
    cache.getListenable().addListener((client, e) -> {
      String p = e.getData() == null ? "" : e.getData().getPath().substring(ctx.root.length());
      // Connection-state events (a reconnect under load) are not what this check compares.
      if (e.getType() == org.apache.curator.framework.recipes.cache.TreeCacheEvent.Type.INITIALIZED) initialized.countDown();
      else if (!e.getType().name().startsWith("NODE_")) return;
      else if (initialized.getCount() > 0) initial.add(e.getType() + " " + p);
      else ev.add(e.getType() + " " + p);
    });
    cache.start();
    CuratorRecipes.expect(initialized.await(10, TimeUnit.SECONDS), "initialized within 10 s");
    List<String> live = new ArrayList<>();
    w.create().forPath(base + "/a/c", b("2"));
    live.add(CuratorRecipes.next(ev, "NODE_ADDED", 5000));
    w.setData().forPath(base + "/a/b", b("3"));
    live.add(CuratorRecipes.next(ev, "NODE_UPDATED", 5000));
    w.delete().deletingChildrenIfNeeded().forPath(base + "/a");
    for (int i = 0; i < 3; i++) live.add(CuratorRecipes.next(ev, "NODE_REMOVED " + i, 5000));
    List<String> init = new ArrayList<>(initial);
    Collections.sort(init);
    List<String> removed = new ArrayList<>(live.subList(2, 5));
    Collections.sort(removed); // TreeCache removes a subtree bottom-up, in an order of its own
    return "initial=" + init + " live=" + live.subList(0, 2) + " removed=" + removed;
  }

  static String bigTransaction(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    int n = 500;
    String base = ctx.path("many");
    c.create().creatingParentContainersIfNeeded().forPath(base);
    List<CuratorOp> creates = new ArrayList<>();
    for (int i = 0; i < n; i++) creates.add(c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(base + "/n-", b("x")));
    int created = c.transaction().forOperations(creates).size();
    List<String> kids = c.getChildren().forPath(base);
    Collections.sort(kids);
    List<CuratorOp> deletes = new ArrayList<>();
    for (String k : kids) deletes.add(c.transactionOp().delete().forPath(base + "/" + k));
    int deleted = c.transaction().forOperations(deletes).size();
    return "created=" + created + " first=" + kids.get(0) + " last=" + kids.get(n - 1) + " deleted=" + deleted
        + " left=" + c.getChildren().forPath(base).size() + " cversion=" + c.checkExists().forPath(base).getCversion();
  }

  /**
   * A process holding leadership stops talking (a long pause, a partition) without closing its
   * session: only the server's session expiry removes its latch node and its ephemeral, and only
   * then may the other candidate lead. The silent process is a plain ZooKeeper handle whose
   * connection is cut on the client side (the client's own test hook), so nothing but the
   * server's timer can end the session.
   */
  static String sessionExpiry(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("latch");
    CuratorFramework bc = ctx.client();
    bc.createContainers(path);
    // Shortest session ZooKeeper grants with tickTime 2000 (2 ticks): expiry takes 4-6 s.
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper silent = new ZooKeeper(ctx.connect, 4000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
    });
    ctx.closeLater(silent::close);
    CuratorRecipes.expect(connected.await(10, TimeUnit.SECONDS), "plain client connects");
    // A latch node as LeaderLatch names it (protected, "latch-" + sequence; data = participant id).
    silent.create(path + "/_c_" + UUID.randomUUID() + "-latch-", b("a"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
    silent.create(ctx.path("eph"), b("1"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
    LeaderLatch b = ctx.closeLater(new LeaderLatch(bc, path, "b"));
    b.start();
    CuratorRecipes.await("b sees a as leader", 5000, () -> {
      try {
        return b.getLeader().getId().equals("a");
      } catch (Exception e) {
        return false;
      }
    });
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    bc.checkExists().usingWatcher((Watcher) e -> ev.add(e.getType().toString())).forPath(ctx.path("eph"));
    long cut = System.nanoTime();
    silent.getTestable().injectSessionExpiration();
    CuratorRecipes.expect(b.await(15, TimeUnit.SECONDS), "b leads within 15 s");
    long handoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut);
    String ephEvent = CuratorRecipes.next(ev, "NodeDeleted of the silent session's ephemeral", 5000);
    // Not before the 4 s session timeout (less a little for timer rounding), nor long after it.
    return "handoverBySessionExpiry=" + (handoverMs >= 3500 && handoverMs <= 12_000) + " ephemeral=" + ephEvent
        + " participants=" + b.getParticipants().size();
  }

  /**
   * The server ends a live Curator client's session (closed from another connection that resumes
   * it by id and password, as Curator's own tests kill sessions): the client learns it expired,
   * Curator opens a new session, and the recipes recover on it — the latch rejoins as a
   * follower and PersistentNode re-creates its ephemeral under the new owner.
   */
  static String sessionKilled(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("latch");
    CuratorFramework ac = ctx.client();
    LeaderLatch a = ctx.closeLater(new LeaderLatch(ac, path, "a"));
    a.start();
    CuratorRecipes.expect(a.await(10, TimeUnit.SECONDS), "a leads");
    LeaderLatch b = ctx.closeLater(new LeaderLatch(ctx.client(), path, "b"));
    b.start();
    CuratorRecipes.await("b has its node", 5000, () -> b.getOurPath() != null);
    PersistentNode eph = ctx.closeLater(new PersistentNode(ac, CreateMode.EPHEMERAL, false, ctx.path("eph"), b("1")));
    eph.start();
    CuratorRecipes.expect(eph.waitForInitialCreate(5, TimeUnit.SECONDS), "ephemeral created");
    ZooKeeper old = ac.getZookeeperClient().getZooKeeper();
    long oldSession = old.getSessionId();
    CountDownLatch attached = new CountDownLatch(1);
    ZooKeeper killer = new ZooKeeper(ctx.connect, 10_000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) attached.countDown();
    }, oldSession, old.getSessionPasswd());
    CuratorRecipes.expect(attached.await(10, TimeUnit.SECONDS), "second connection resumes the session");
    killer.close(); // closeSession: the server deletes a's nodes
    CuratorRecipes.expect(b.await(10, TimeUnit.SECONDS), "b leads once a's session is closed");
    CuratorRecipes.await("a's client has a new session", 15_000, () -> {
      try {
        return ac.getZookeeperClient().isConnected() && ac.getZookeeperClient().getZooKeeper().getSessionId() != oldSession;
      } catch (Exception e) {
        return false;
      }
    });
    long newSession = ac.getZookeeperClient().getZooKeeper().getSessionId();
    CuratorRecipes.await("ephemeral re-created by the new session", 10_000, () -> {
      try {
        org.apache.zookeeper.data.Stat s = ac.checkExists().forPath(ctx.path("eph"));
        return s != null && s.getEphemeralOwner() == newSession;
      } catch (Exception e) {
        return false;
      }
    });
    CuratorRecipes.await("a rejoined as a follower", 10_000, () -> {
      try {
        return a.getParticipants().size() == 2;
      } catch (Exception e) {
        return false;
      }
    });
    return "bLeads=" + b.hasLeadership() + " aLeads=" + a.hasLeadership() + " ephemeralBack=true leader=" + a.getLeader().getId();
  }
}
