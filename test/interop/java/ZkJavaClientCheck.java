// Drives Coracle's ZooKeeper port with Apache ZooKeeper's own Java client (3.8), and with
// Curator's framework when it is on the classpath: create2 (Stat variants), containers, TTL
// nodes, multi with check and per-op results, one-shot and persistent recursive watches,
// removeWatches, getEphemerals, getAllChildrenNumber, whoAmI, getConfig, digest ACLs, sync.
// Prints "OK <step>" per step; any failure prints "FAIL <step>: <reason>" and exits 1.
// Run by test/interop/zk-java-client.test.ts; our own code (not copied from anywhere).
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;

public class ZkJavaClientCheck {
  static void check(boolean cond, String what) {
    if (!cond) throw new IllegalStateException(what);
  }

  static ZooKeeper connect(String hosts, Watcher w) throws Exception {
    CountDownLatch up = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(hosts, 10000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
      if (w != null) w.process(e);
    });
    check(up.await(10, TimeUnit.SECONDS), "connected");
    return zk;
  }

  static void step(String name, Callable<Object> body) {
    try {
      body.call();
      System.out.println("OK " + name);
    } catch (Throwable t) {
      System.out.println("FAIL " + name + ": " + t);
      t.printStackTrace(System.out);
      System.exit(1);
    }
  }

  public static void main(String[] args) throws Exception {
    String hosts = args[0];
    byte[] v = "v".getBytes(StandardCharsets.UTF_8);
    List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    ZooKeeper zk = connect(hosts, null);
    ZooKeeper other = connect(hosts, null);

    step("create2 with Stat, sequential, ephemeral", () -> {
      Stat st = new Stat();
      String p = zk.create("/j", v, open, CreateMode.PERSISTENT, st);
      check(p.equals("/j") && st.getVersion() == 0 && st.getCzxid() == st.getMzxid(), "stat of create2");
      String s = zk.create("/j/s-", v, open, CreateMode.EPHEMERAL_SEQUENTIAL);
      check(s.equals("/j/s-0000000000"), "sequential name " + s);
      check(zk.exists(s, false).getEphemeralOwner() == zk.getSessionId(), "ephemeralOwner");
      return null;
    });
    step("container and TTL nodes", () -> {
      zk.create("/jc", v, open, CreateMode.CONTAINER);
      zk.create("/jt", v, open, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 60000L);
      check(zk.exists("/jc", false) != null && zk.exists("/jt", false) != null, "exist");
      return null;
    });
    step("multi with check: success and per-op failure results", () -> {
      List<OpResult> ok = zk.multi(Arrays.asList(Op.create("/j/m", v, open, CreateMode.PERSISTENT), Op.check("/j", 0), Op.setData("/j/m", v, 0)));
      check(ok.size() == 3, "3 results");
      try {
        zk.multi(Arrays.asList(Op.create("/j/n", v, open, CreateMode.PERSISTENT), Op.check("/j", 9), Op.delete("/j/m", -1)));
        check(false, "multi should fail");
      } catch (KeeperException.BadVersionException e) {
        List<OpResult> r = e.getResults();
        check(r.size() == 3, "3 error results");
        check(((OpResult.ErrorResult) r.get(0)).getErr() == 0, "ok before");
        check(((OpResult.ErrorResult) r.get(1)).getErr() == KeeperException.Code.BADVERSION.intValue(), "failing code");
        check(((OpResult.ErrorResult) r.get(2)).getErr() == KeeperException.Code.RUNTIMEINCONSISTENCY.intValue(), "runtime inconsistency after");
      }
      check(zk.exists("/j/n", false) == null, "nothing applied");
      return null;
    });
    step("one-shot data watch, event before the new data", () -> {
      zk.getData("/j", e -> events.add(e.getType() + " " + e.getPath()), null);
      other.setData("/j", "w".getBytes(StandardCharsets.UTF_8), -1);
      String e = events.poll(5, TimeUnit.SECONDS);
      check("NodeDataChanged /j".equals(e), "event " + e);
      other.setData("/j", v, -1);
      check(events.poll(500, TimeUnit.MILLISECONDS) == null, "one-shot");
      return null;
    });
    step("persistent recursive watch and removeWatches", () -> {
      Watcher w = e -> events.add("R " + e.getType() + " " + e.getPath());
      zk.addWatch("/j", w, AddWatchMode.PERSISTENT_RECURSIVE);
      other.create("/j/r", v, open, CreateMode.PERSISTENT);
      other.setData("/j/r", v, -1);
      check("R NodeCreated /j/r".equals(events.poll(5, TimeUnit.SECONDS)), "created");
      check("R NodeDataChanged /j/r".equals(events.poll(5, TimeUnit.SECONDS)), "changed");
      zk.removeWatches("/j", w, Watcher.WatcherType.Any, false);
      String removed = events.poll(5, TimeUnit.SECONDS);
      check(removed != null && removed.contains("PersistentWatchRemoved"), "removed event " + removed);
      other.setData("/j/r", v, -1);
      check(events.poll(500, TimeUnit.MILLISECONDS) == null, "no event after removal");
      return null;
    });
    step("getEphemerals, getAllChildrenNumber, whoAmI, getConfig, sync", () -> {
      check(zk.getEphemerals("/j").equals(Collections.singletonList("/j/s-0000000000")), "ephemerals");
      check(zk.getAllChildrenNumber("/j") == 3, "all children " + zk.getAllChildrenNumber("/j"));
      check(zk.whoAmI().get(0).getAuthScheme().equals("ip"), "whoAmI");
      check(zk.getConfig(false, new Stat()) != null, "config");
      CountDownLatch synced = new CountDownLatch(1);
      zk.sync("/j", (rc, path, ctx) -> synced.countDown(), null);
      check(synced.await(5, TimeUnit.SECONDS), "sync");
      return null;
    });
    step("digest ACLs", () -> {
      zk.addAuthInfo("digest", "carol:pw".getBytes(StandardCharsets.UTF_8));
      zk.create("/jsec", v, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
      try {
        other.getData("/jsec", false, null);
        check(false, "other must be refused");
      } catch (KeeperException.NoAuthException expected) {
      }
      check(Arrays.equals(zk.getData("/jsec", false, null), v), "owner reads");
      return null;
    });
    if (hasCurator()) curator(hosts);
    zk.close();
    other.close();
    System.out.println("DONE");
  }

  static boolean hasCurator() {
    try {
      Class.forName("org.apache.curator.framework.CuratorFrameworkFactory");
      return true;
    } catch (ClassNotFoundException e) {
      System.out.println("SKIP curator: not on the classpath");
      return false;
    }
  }

  static void curator(String hosts) throws Exception {
    // By reflection: CuratorCheck is compiled only when Curator's jars are present.
    try {
      Class.forName("CuratorCheck").getMethod("run", String.class).invoke(null, hosts);
    } catch (ClassNotFoundException e) {
      System.out.println("SKIP curator: CuratorCheck not compiled");
    } catch (java.lang.reflect.InvocationTargetException e) {
      System.out.println("FAIL curator: " + e.getCause());
      e.getCause().printStackTrace(System.out);
      System.exit(1);
    }
  }
}
