// The Curator framework calls the recipes are built from: creates in every mode (Curator always
// sends create2, and containers/TTL as their own opcodes), transactions (multi with check,
// create, createContainer, createTTL and setData; per-op error results on failure), container
// parents, and persistent watches (addWatch, removeWatches).
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

final class FrameworkChecks {
  private FrameworkChecks() {}

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static String s(byte[] b) {
    return b == null ? "null" : new String(b, UTF_8);
  }

  static String framework(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    List<String> out = new ArrayList<>();
    String ab = c.create().creatingParentsIfNeeded().forPath(ctx.path("a/b"), b("1"));
    out.add("created=" + ab.substring(ctx.root.length()));
    c.create().orSetData().forPath(ctx.path("a/b"), b("2"));
    Stat st = new Stat();
    out.add("orSetData=" + s(c.getData().storingStatIn(st).forPath(ctx.path("a/b"))) + "@v" + st.getVersion());

    // Protected mode: Curator prefixes "_c_<uuid>-" so it can find its node after a connection
    // loss; the server sees an ordinary EPHEMERAL_SEQUENTIAL create2.
    String prot = c.create().creatingParentContainersIfNeeded().withProtection()
        .withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(ctx.path("p/lock-"), b("x"));
    String name = prot.substring(prot.lastIndexOf('/') + 1);
    out.add("protected=" + name.matches("_c_[0-9a-f-]{36}-lock-\\d{10}"));
    Stat ps = c.checkExists().forPath(prot);
    CuratorRecipes.expect(ps != null && ps.getEphemeralOwner() == c.getZookeeperClient().getZooKeeper().getSessionId(), "ephemeral owner is our session");

    c.create().withTtl(60_000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(ctx.path("ttl"), b("t"));
    Stat ts = c.checkExists().forPath(ctx.path("ttl"));
    out.add("ttlNode=" + (ts != null && ts.getEphemeralOwner() == 0));

    out.add("missing=" + (c.checkExists().forPath(ctx.path("nope")) == null));
    try {
      c.setData().withVersion(7).forPath(ctx.path("a/b"), b("3"));
      out.add("badVersion=false");
    } catch (KeeperException.BadVersionException e) {
      out.add("badVersion=true");
    }
    try {
      c.create().forPath(ctx.path("x/y"));
      out.add("noParent=false");
    } catch (KeeperException.NoNodeException e) {
      out.add("noParent=true");
    }
    List<String> kids = new ArrayList<>(c.getChildren().forPath(ctx.root));
    Collections.sort(kids);
    out.add("children=" + kids);
    List<ACL> acl = c.getACL().forPath(ctx.path("a"));
    out.add("acl=" + acl.size() + ":" + acl.get(0).getId().getScheme() + ":" + acl.get(0).getId().getId() + ":" + acl.get(0).getPerms());

    CountDownLatch synced = new CountDownLatch(1);
    c.sync().inBackground((client, event) -> synced.countDown()).forPath(ctx.root);
    out.add("sync=" + synced.await(5, TimeUnit.SECONDS));
    // EnsembleTracker (on by default) has already read and watched /zookeeper/config.
    out.add("config=" + (c.getConfig().forEnsemble() != null));

    c.create().idempotent().forPath(ctx.path("idem"), b("i"));
    c.create().idempotent().forPath(ctx.path("idem"), b("i"));
    out.add("idempotent=true");
    c.delete().guaranteed().deletingChildrenIfNeeded().forPath(ctx.path("a"));
    out.add("deletedTree=" + (c.checkExists().forPath(ctx.path("a")) == null));
    return String.join(" ", out);
  }

  static String transaction(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    List<String> out = new ArrayList<>();
    String tx = ctx.path("tx");
    c.create().creatingParentContainersIfNeeded().forPath(tx, b("v0"));
    List<CuratorTransactionResult> ok = c.transaction().forOperations(
        c.transactionOp().check().withVersion(0).forPath(tx),
        c.transactionOp().create().forPath(tx + "/child", b("c")),
        c.transactionOp().setData().forPath(tx, b("v1")),
        c.transactionOp().create().withMode(CreateMode.CONTAINER).forPath(tx + "/box"),
        c.transactionOp().create().withTtl(60_000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(tx + "/ttl"),
        c.transactionOp().delete().forPath(tx + "/ttl"));
    List<String> types = new ArrayList<>();
    for (CuratorTransactionResult r : ok) types.add(r.getType() + ":" + r.getForPath().substring(ctx.root.length()));
    out.add("committed=" + types);
    out.add("childPath=" + ok.get(1).getResultPath().substring(ctx.root.length()));
    out.add("setVersion=" + ok.get(2).getResultStat().getVersion());
    out.add("box=" + (c.checkExists().forPath(tx + "/box") != null));

    // A check with a stale version fails the whole transaction: nothing before it is applied and
    // the per-op results say OK (0), BADVERSION (-103), RUNTIMEINCONSISTENCY (-2).
    try {
      c.transaction().forOperations(
          c.transactionOp().create().forPath(tx + "/other"),
          c.transactionOp().check().withVersion(0).forPath(tx),
          c.transactionOp().setData().forPath(tx, b("v2")));
      out.add("staleCheck=committed");
    } catch (KeeperException e) {
      out.add("staleCheck=" + e.code() + codes(e.getResults()));
    }
    out.add("rolledBack=" + (c.checkExists().forPath(tx + "/other") == null && "v1".equals(s(c.getData().forPath(tx)))));
    try {
      c.transaction().forOperations(
          c.transactionOp().setData().forPath(tx, b("v3")),
          c.transactionOp().create().forPath(tx + "/child"));
      out.add("duplicate=committed");
    } catch (KeeperException e) {
      out.add("duplicate=" + e.code() + codes(e.getResults()));
    }
    out.add("dataAfter=" + s(c.getData().forPath(tx)));
    return String.join(" ", out);
  }

  static String codes(List<OpResult> results) {
    List<Integer> codes = new ArrayList<>();
    if (results != null) {
      for (OpResult r : results) codes.add(r instanceof OpResult.ErrorResult ? ((OpResult.ErrorResult) r).getErr() : 0);
    }
    return codes.toString().replace(" ", "");
  }

  static String containers(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    List<String> out = new ArrayList<>();
    String leaf = c.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(ctx.path("a/b/leaf"));
    out.add("leaf=" + leaf.substring(ctx.root.length()));
    Stat a = c.checkExists().forPath(ctx.path("a"));
    Stat ab = c.checkExists().forPath(ctx.path("a/b"));
    out.add("parents=" + (a != null && ab != null && a.getEphemeralOwner() == 0 && ab.getEphemeralOwner() == 0));
    out.add("numChildren=" + a.getNumChildren() + "," + ab.getNumChildren());
    // createContainers: idempotent, creates the whole path as containers.
    c.createContainers(ctx.path("c/d"));
    c.createContainers(ctx.path("c/d"));
    out.add("createContainers=" + (c.checkExists().forPath(ctx.path("c/d")) != null));
    // An existing parent is used as is.
    c.create().creatingParentContainersIfNeeded().forPath(ctx.path("a/b/second"));
    out.add("second=" + c.checkExists().forPath(ctx.path("a/b")).getNumChildren());
    return String.join(" ", out);
  }

  static String addWatch(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    CuratorFramework writer = ctx.client();
    List<String> out = new ArrayList<>();
    writer.createContainers(ctx.root);
    String p = ctx.path("p");
    String r = ctx.path("r");
    BlockingQueue<String> pe = new LinkedBlockingQueue<>();
    BlockingQueue<String> re = new LinkedBlockingQueue<>();
    Watcher pw = e -> pe.add(e.getType() + ":" + rel(ctx, e.getPath()));
    Watcher rw = e -> re.add(e.getType() + ":" + rel(ctx, e.getPath()));
    c.watchers().add().withMode(AddWatchMode.PERSISTENT).usingWatcher(pw).forPath(p);
    c.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(rw).forPath(r);

    // Each step waits for its own event so the lists are deterministic on any server.
    writer.create().forPath(p, b("0"));
    List<String> pEvents = new ArrayList<>();
    pEvents.add(CuratorRecipes.next(pe, "NodeCreated on p", 5000));
    writer.setData().forPath(p, b("1"));
    pEvents.add(CuratorRecipes.next(pe, "NodeDataChanged on p", 5000));
    writer.create().forPath(p + "/c");
    pEvents.add(CuratorRecipes.next(pe, "NodeChildrenChanged on p", 5000));
    writer.setData().forPath(p + "/c", b("x")); // a child's data: nothing for a PERSISTENT watch on p
    writer.delete().forPath(p + "/c");
    pEvents.add(CuratorRecipes.next(pe, "NodeChildrenChanged on p", 5000));
    writer.delete().forPath(p);
    pEvents.add(CuratorRecipes.next(pe, "NodeDeleted on p", 5000));
    writer.create().forPath(p); // the watch survives the node's deletion
    pEvents.add(CuratorRecipes.next(pe, "NodeCreated on p again", 5000));
    out.add("persistent=" + pEvents);

    writer.create().forPath(r);
    writer.create().forPath(r + "/a");
    writer.setData().forPath(r + "/a", b("1"));
    writer.create().forPath(r + "/a/b");
    writer.delete().forPath(r + "/a/b");
    List<String> rEvents = new ArrayList<>();
    for (int i = 0; i < 5; i++) rEvents.add(CuratorRecipes.next(re, "recursive event " + i, 5000));
    out.add("recursive=" + rEvents);

    // removeWatches (type Any) ends the persistent watch; the client tells the watcher itself.
    c.watchers().remove(pw).ofType(Watcher.WatcherType.Any).forPath(p);
    out.add("removed=" + pe.poll(2, TimeUnit.SECONDS));
    writer.setData().forPath(p, b("2"));
    writer.setData().forPath(r + "/a", b("2"));
    out.add("recursiveStillOn=" + CuratorRecipes.next(re, "recursive event after remove", 5000));
    out.add("afterRemove=" + pe.poll(300, TimeUnit.MILLISECONDS));

    // Curator's own PersistentWatcher recipe over addWatch.
    BlockingQueue<String> we = new LinkedBlockingQueue<>();
    PersistentWatcher recipe = ctx.closeLater(new PersistentWatcher(c, ctx.path("w"), true));
    recipe.getListenable().addListener(e -> we.add(e.getType() + ":" + rel(ctx, e.getPath())));
    recipe.start();
    // start() registers the watch in the background: poll with creates until one is seen.
    String first = null;
    for (int i = 0; i < 50 && first == null; i++) {
      writer.create().orSetData().forPath(ctx.path("w"), b(Integer.toString(i)));
      first = we.poll(100, TimeUnit.MILLISECONDS);
    }
    CuratorRecipes.expect(first != null, "PersistentWatcher saw no event");
    writer.create().forPath(ctx.path("w/k"));
    String k = CuratorRecipes.next(we, "PersistentWatcher child event", 5000);
    while (!k.endsWith("/w/k")) k = CuratorRecipes.next(we, "PersistentWatcher child event", 5000);
    out.add("persistentWatcher=" + k);
    return String.join(" ", out);
  }

  static String rel(CuratorRecipes.Ctx ctx, String path) {
    return path == null ? "null" : path.startsWith(ctx.root) ? path.substring(ctx.root.length()) : path;
  }
}
