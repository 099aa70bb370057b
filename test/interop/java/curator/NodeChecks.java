// Curator's node recipes and the server-side node types they lean on: PersistentNode (an
// ephemeral kept alive across deletion and reconnects), container parents reaped once emptied,
// and PersistentTtlNode (a container holding a TTL child that the recipe touches). The reaping
// checks need the server's container/TTL reaper to run often (the test sets 500 ms on both
// servers; ZooKeeper's default is a minute).
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

final class NodeChecks {
  private NodeChecks() {}

  /** Bound on waiting for the reaper (a few of its rounds at 500 ms, on a loaded machine). */
  static final long REAP_WAIT_MS = 15_000;

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static boolean exists(CuratorFramework c, String path) {
    try {
      return c.checkExists().forPath(path) != null;
    } catch (Exception e) {
      return false;
    }
  }

  static String persistentNode(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework owner = ctx.client();
    CuratorFramework other = ctx.client();
    List<String> out = new ArrayList<>();
    String path = ctx.path("member");
    PersistentNode node = ctx.closeLater(new PersistentNode(owner, CreateMode.EPHEMERAL, false, path, b("up")));
    node.start();
    out.add("created=" + node.waitForInitialCreate(5, TimeUnit.SECONDS));
    out.add("path=" + node.getActualPath().substring(ctx.root.length()));
    Stat first = other.checkExists().forPath(path);
    out.add("ownedBySession=" + (first.getEphemeralOwner() == owner.getZookeeperClient().getZooKeeper().getSessionId()));

    // Someone deletes it: the recipe's watch fires and it creates the node again.
    other.delete().forPath(path);
    CuratorRecipes.await("node recreated", 10_000, () -> {
      try {
        Stat s = other.checkExists().forPath(path);
        return s != null && s.getCzxid() != first.getCzxid();
      } catch (Exception e) {
        return false;
      }
    });
    out.add("recreated=true");
    node.setData(b("changed"));
    CuratorRecipes.await("data visible", 5000, () -> {
      try {
        return "changed".equals(new String(other.getData().forPath(path), UTF_8));
      } catch (Exception e) {
        return false;
      }
    });
    out.add("setData=true");

    // Protected ephemeral-sequential: the name carries Curator's "_c_<uuid>-" guard.
    PersistentNode seq = ctx.closeLater(new PersistentNode(owner, CreateMode.EPHEMERAL_SEQUENTIAL, true, ctx.path("group/m-"), b("s")));
    seq.start();
    CuratorRecipes.expect(seq.waitForInitialCreate(5, TimeUnit.SECONDS), "sequential created");
    String name = seq.getActualPath().substring(seq.getActualPath().lastIndexOf('/') + 1);
    out.add("protectedSequential=" + name.matches("_c_[0-9a-f-]{36}-m-\\d{10}"));

    node.close();
    seq.close();
    out.add("goneAfterClose=" + (!exists(other, path) && other.getChildren().forPath(ctx.path("group")).isEmpty()));
    return String.join(" ", out);
  }

  static String containerReaping(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    List<String> out = new ArrayList<>();
    c.create().creatingParentContainersIfNeeded().forPath(ctx.path("a/b/leaf"));
    c.create().creatingParentsIfNeeded().forPath(ctx.path("p/q")); // plain persistent parent
    c.createContainers(ctx.path("never")); // a container that never had a child
    c.delete().forPath(ctx.path("a/b/leaf"));
    c.delete().forPath(ctx.path("p/q"));
    // The emptied container goes; then its parent, emptied by that, goes on a later round.
    CuratorRecipes.await("a/b reaped", REAP_WAIT_MS, () -> !exists(c, ctx.path("a/b")));
    out.add("emptiedContainerReaped=true");
    CuratorRecipes.await("a reaped", REAP_WAIT_MS, () -> !exists(c, ctx.path("a")));
    out.add("parentContainerReaped=true");
    out.add("persistentKept=" + exists(c, ctx.path("p")));
    // ZooKeeper 3.8 keeps never-used containers (maxNeverUsedIntervalMs defaults to 0: never).
    out.add("neverUsedKept=" + exists(c, ctx.path("never")));
    // Curator recreates a reaped container parent on the next create.
    c.create().creatingParentContainersIfNeeded().forPath(ctx.path("a/b/again"));
    out.add("recreated=" + exists(c, ctx.path("a/b/again")));
    return String.join(" ", out);
  }

  static String ttlNode(CuratorRecipes.Ctx ctx) throws Exception {
    CuratorFramework c = ctx.client();
    CuratorFramework other = ctx.client();
    List<String> out = new ArrayList<>();
    long ttlMs = 1000;
    String path = ctx.path("ttl");
    PersistentTtlNode node = ctx.closeLater(new PersistentTtlNode(c, path, ttlMs, b("alive")));
    node.start();
    out.add("created=" + node.waitForInitialCreate(5, TimeUnit.SECONDS));
    // The recipe creates the container, then its TTL child ("touch") from a scheduled task.
    CuratorRecipes.await("ttl child visible", 5000, () -> exists(other, path + "/" + PersistentTtlNode.DEFAULT_CHILD_NODE_NAME));
    out.add("children=" + other.getChildren().forPath(path));
    out.add("data=" + new String(other.getData().forPath(path), UTF_8));
    // Alive well past its TTL while the recipe touches it.
    Thread.sleep(3 * ttlMs);
    out.add("aliveWhileTouched=" + exists(other, path));
    node.close();
    // Untouched, the TTL child expires; the emptied container parent goes after it.
    CuratorRecipes.await("ttl node gone", REAP_WAIT_MS, () -> !exists(other, path));
    out.add("goneAfterClose=true");

    // A plain TTL node (createTTL) without children expires on its own.
    other.create().withTtl(500).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(ctx.path("plain"), b("p"));
    CuratorRecipes.await("plain TTL node expired", REAP_WAIT_MS, () -> !exists(other, ctx.path("plain")));
    out.add("plainTtlExpired=true");
    return String.join(" ", out);
  }
}
