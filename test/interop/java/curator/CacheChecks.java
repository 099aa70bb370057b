// Curator's caches: CuratorCache (Curator 5: one persistent recursive watch via addWatch, then
// getData per event), NodeCache and PathChildrenCache (the 4.x caches: one-shot exists/getData/
// getChildren watches re-armed on every event). Checked: the initial build, then each live
// change seen once and in order. Every change waits for its event before the next one, so the
// event lists are the same on any correct server.
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.state.ConnectionState;

@SuppressWarnings("deprecation") // NodeCache and PathChildrenCache: deprecated, still widely used
final class CacheChecks {
  private CacheChecks() {}

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static String d(ChildData c) {
    return c == null || c.getData() == null ? "null" : new String(c.getData(), UTF_8);
  }

  static String curatorCache(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework w = ctx.client();
    CuratorFramework c = ctx.client();
    String base = ctx.path("tree");
    w.create().creatingParentContainersIfNeeded().forPath(base, b("root"));
    w.create().forPath(base + "/a", b("1"));
    w.create().forPath(base + "/b", b("2"));
    w.create().forPath(base + "/b/c", b("3"));

    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    CountDownLatch initialized = new CountDownLatch(1);
    List<String> initial = Collections.synchronizedList(new ArrayList<>());
    CuratorCacheListener listener = CuratorCacheListener.builder()
        .forCreates(n -> (initialized.getCount() > 0 ? initial : ev).add("created " + rel(base, n.getPath()) + "=" + d(n)))
        .forChanges((o, n) -> ev.add("changed " + rel(base, n.getPath()) + " " + d(o) + "->" + d(n)))
        .forDeletes(o -> ev.add("deleted " + rel(base, o.getPath())))
        .forInitialized(initialized::countDown)
        .build();
    CuratorCache cache = ctx.closeLater(CuratorCache.build(c, base));
    cache.listenable().addListener(listener);
    cache.start();
    CuratorRecipes.expect(initialized.await(10, TimeUnit.SECONDS), "initialized within 10 s");
    List<String> init = new ArrayList<>(initial);
    Collections.sort(init); // the initial build's order is not specified
    List<String> live = new ArrayList<>();
    w.create().forPath(base + "/d", b("4"));
    live.add(CuratorRecipes.next(ev, "create event", 5000));
    w.setData().forPath(base + "/d", b("5"));
    live.add(CuratorRecipes.next(ev, "change event", 5000));
    w.delete().forPath(base + "/d");
    live.add(CuratorRecipes.next(ev, "delete event", 5000));
    w.create().forPath(base + "/b/c/e", b("6"));
    live.add(CuratorRecipes.next(ev, "deep create event", 5000));
    w.delete().deletingChildrenIfNeeded().forPath(base + "/b");
    for (int i = 0; i < 3; i++) live.add(CuratorRecipes.next(ev, "subtree delete event " + i, 5000));
    // A burst without waiting: the cache must converge on the last value.
    for (int i = 0; i < 20; i++) w.setData().forPath(base + "/a", b("burst" + i));
    CuratorRecipes.await("cache converges on burst19", 5000, () -> "burst19".equals(d(cache.get(base + "/a").orElse(null))));
    // Curator 5 on a 3.6+ client: one persistent recursive watch (addWatch) and no one-shot
    // watch of the cache's own; the one left is EnsembleTracker's on /zookeeper/config.
    List<String> recursive = CuratorRecipes.persistentRecursiveWatches(c);
    return "initial=" + init + " live=" + live + " size=" + cache.size()
        + " recursiveWatches=" + recursive.size() + ":" + recursive.contains(base) + " oneShotWatches=" + CuratorRecipes.oneShotWatches(c);
  }

  /**
   * After a dropped connection the client re-registers the cache's persistent recursive watch
   * (SetWatches2, opcode 105); changes made while it was away come only from the cache's own
   * refresh, and changes after it must arrive as events again.
   */
  static String curatorCacheReconnect(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework w = ctx.client();
    CuratorFramework c = ctx.client();
    String base = ctx.path("tree");
    w.create().creatingParentContainersIfNeeded().forPath(base, b("root"));
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    CountDownLatch initialized = new CountDownLatch(1);
    CuratorCache cache = ctx.closeLater(CuratorCache.build(c, base));
    cache.listenable().addListener(CuratorCacheListener.builder()
        .forCreates(n -> ev.add("created " + rel(base, n.getPath())))
        .forChanges((o, n) -> ev.add("changed " + rel(base, n.getPath()) + " " + d(o) + "->" + d(n)))
        .forDeletes(o -> ev.add("deleted " + rel(base, o.getPath())))
        .forInitialized(initialized::countDown)
        .afterInitialized()
        .build());
    cache.start();
    CuratorRecipes.expect(initialized.await(10, TimeUnit.SECONDS), "initialized within 10 s");
    BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
    c.getConnectionStateListenable().addListener((client, st) -> states.add(st));
    List<String> seen = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      CuratorRecipes.dropConnection(c);
      ConnectionState st;
      do st = CuratorRecipes.next(states, "RECONNECTED", 10_000); while (st != ConnectionState.RECONNECTED);
      w.create().forPath(base + "/n" + round, b("x"));
      seen.add(CuratorRecipes.next(ev, "create after reconnect " + round, 5000));
      w.setData().forPath(base + "/n" + round, b("y"));
      seen.add(CuratorRecipes.next(ev, "change after reconnect " + round, 5000));
    }
    return "events=" + seen + " recursiveWatches=" + CuratorRecipes.persistentRecursiveWatches(c).size();
  }

  static String rel(String base, String path) {
    return path.equals(base) ? "." : path.substring(base.length() + 1);
  }

  static String nodeCache(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework w = ctx.client();
    String path = ctx.path("node");
    w.createContainers(ctx.root);
    NodeCache cache = ctx.closeLater(new NodeCache(ctx.client(), path));
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    cache.getListenable().addListener(() -> ev.add(d(cache.getCurrentData())));
    cache.start(true); // build now: the node does not exist yet (an exists watch waits for it)
    List<String> seen = new ArrayList<>();
    seen.add("start=" + d(cache.getCurrentData()));
    w.create().forPath(path, b("v1"));
    seen.add(CuratorRecipes.next(ev, "node created", 5000));
    w.setData().forPath(path, b("v2"));
    seen.add(CuratorRecipes.next(ev, "node changed", 5000));
    w.delete().forPath(path);
    seen.add(CuratorRecipes.next(ev, "node deleted", 5000));
    w.create().forPath(path, b("v3"));
    seen.add(CuratorRecipes.next(ev, "node recreated", 5000));
    return "events=" + seen;
  }

  static String pathChildrenCache(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework w = ctx.client();
    String base = ctx.path("kids");
    w.create().creatingParentContainersIfNeeded().forPath(base);
    w.create().forPath(base + "/x", b("1"));
    PathChildrenCache cache = ctx.closeLater(new PathChildrenCache(ctx.client(), base, true));
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    cache.getListenable().addListener((client, e) -> {
      // Connection-state events (CONNECTION_RECONNECTED after a reconnect under load, seen once
      // on ZooKeeper in CI) come through the same listener; they are not what this compares.
      if (e.getType().name().startsWith("CONNECTION_")) return;
      ChildData cd = e.getData();
      ev.add(e.getType() + (cd == null ? "" : " " + cd.getPath().substring(base.length() + 1) + "=" + d(cd)));
    });
    cache.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
    List<String> seen = new ArrayList<>();
    seen.add(CuratorRecipes.next(ev, "CHILD_ADDED x", 5000));
    seen.add(CuratorRecipes.next(ev, "INITIALIZED", 5000));
    w.create().forPath(base + "/y", b("2"));
    seen.add(CuratorRecipes.next(ev, "CHILD_ADDED y", 5000));
    w.setData().forPath(base + "/y", b("3"));
    seen.add(CuratorRecipes.next(ev, "CHILD_UPDATED y", 5000));
    w.delete().forPath(base + "/x");
    seen.add(CuratorRecipes.next(ev, "CHILD_REMOVED x", 5000));
    // An ephemeral child goes with its session: the cache sees CHILD_REMOVED.
    CuratorFramework eph = ctx.client();
    eph.create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL).forPath(base + "/e", b("4"));
    seen.add(CuratorRecipes.next(ev, "CHILD_ADDED e", 5000));
    eph.close();
    seen.add(CuratorRecipes.next(ev, "CHILD_REMOVED e", 5000));
    List<String> now = new ArrayList<>();
    for (ChildData cd : cache.getCurrentData()) now.add(cd.getPath().substring(base.length() + 1));
    return "events=" + seen + " current=" + now;
  }
}
