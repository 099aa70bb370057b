// Client-level settings that recipes inherit: a namespace (chroot-like prefix that Curator
// creates as a container on first use), digest authorization with an ACL provider (the parents
// Curator creates get the same ACL), and the session timeout the server grants.
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

final class ClientChecks {
  private ClientChecks() {}

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static String namespace(CuratorRecipes.Ctx ctx) throws Exception {
    String ns = ctx.root.substring(1) + "/app";
    CuratorFramework app = ctx.client(10_000, bld -> bld.namespace(ns));
    CuratorFramework raw = ctx.client();
    List<String> out = new ArrayList<>();
    out.add("created=" + app.create().creatingParentsIfNeeded().forPath("/cfg/x", b("1")));
    out.add("rawSees=" + (raw.checkExists().forPath(ctx.root + "/app/cfg/x") != null));
    LeaderLatch latch = ctx.closeLater(new LeaderLatch(app, "/leader", "only"));
    latch.start();
    out.add("leads=" + latch.await(10, TimeUnit.SECONDS));
    out.add("latchPath=" + latch.getOurPath().replaceAll("_c_[0-9a-f-]{36}-", "_c_UUID-"));
    List<String> kids = new ArrayList<>(raw.getChildren().forPath(ctx.root + "/app"));
    Collections.sort(kids);
    out.add("rawChildren=" + kids);
    return String.join(" ", out);
  }

  static String acl(CuratorRecipes.Ctx ctx) throws Exception {
    String digest = DigestAuthenticationProvider.generateDigest("alice:secret");
    List<ACL> aliceOnly = Collections.singletonList(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)));
    ACLProvider provider = new ACLProvider() {
      @Override
      public List<ACL> getDefaultAcl() {
        return aliceOnly;
      }

      @Override
      public List<ACL> getAclForPath(String path) {
        return aliceOnly;
      }
    };
    CuratorFramework alice = ctx.client(10_000, bld -> bld.authorization("digest", b("alice:secret")).aclProvider(provider));
    CuratorFramework anon = ctx.client();
    CuratorFramework bob = ctx.client(10_000, bld -> bld.authorization("digest", b("bob:pw")));
    List<String> out = new ArrayList<>();
    anon.createContainers(ctx.root);
    alice.create().creatingParentsIfNeeded().forPath(ctx.path("secure/deep/node"), b("s"));
    List<ACL> parentAcl = alice.getACL().forPath(ctx.path("secure/deep"));
    try {
      anon.getACL().forPath(ctx.path("secure/deep"));
      out.add("anonGetAcl=ok");
    } catch (KeeperException ex) {
      out.add("anonGetAcl=" + ex.code());
    }
    out.add("parentAcl=" + parentAcl.get(0).getId().getScheme() + ":" + parentAcl.get(0).getId().getId().startsWith("alice:") + ":" + parentAcl.get(0).getPerms());
    out.add("aliceReads=" + new String(alice.getData().forPath(ctx.path("secure/deep/node")), UTF_8));
    for (Map.Entry<String, CuratorFramework> e : Map.of("anon", anon, "bob", bob).entrySet()) {
      try {
        e.getValue().getData().forPath(ctx.path("secure/deep/node"));
        out.add(e.getKey() + "Reads=ok");
      } catch (KeeperException ex) {
        out.add(e.getKey() + "Reads=" + ex.code());
      }
    }
    Collections.sort(out.subList(3, 5)); // Map.of iterates in no fixed order
    try {
      bob.create().forPath(ctx.path("secure/deep/bobs"));
      out.add("bobCreates=ok");
    } catch (KeeperException ex) {
      out.add("bobCreates=" + ex.code());
    }
    // Not compared: exists on a node without READ. ZooKeeper 3.8.4 and 3.9.2 started to demand
    // READ there (ZOOKEEPER-2590), as Coracle does; Debian's 3.8.0 answers it.
    // setACL needs ADMIN.
    try {
      bob.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(ctx.path("secure/deep/node"));
      out.add("bobSetAcl=ok");
    } catch (KeeperException ex) {
      out.add("bobSetAcl=" + ex.code());
    }
    alice.setACL().withVersion(0).withACL(ZooDefs.Ids.READ_ACL_UNSAFE).forPath(ctx.path("secure/deep/node"));
    out.add("anonAfterOpen=" + new String(anon.getData().forPath(ctx.path("secure/deep/node")), UTF_8));
    try {
      anon.setData().forPath(ctx.path("secure/deep/node"), b("x"));
      out.add("anonWrites=ok");
    } catch (KeeperException ex) {
      out.add("anonWrites=" + ex.code());
    }
    out.add("aversion=" + anon.checkExists().forPath(ctx.path("secure/deep/node")).getAversion());
    return String.join(" ", out);
  }

  static String sessionNegotiation(CuratorRecipes.Ctx ctx) throws Exception {
    List<String> out = new ArrayList<>();
    // tickTime 2000: the server clamps to [2, 20] ticks.
    for (int asked : new int[] {1000, 4000, 15_000, 60_000}) {
      CuratorFramework c = ctx.client(asked);
      out.add(asked + "->" + c.getZookeeperClient().getZooKeeper().getSessionTimeout());
      c.close();
    }
    return "granted=" + out;
  }
}
