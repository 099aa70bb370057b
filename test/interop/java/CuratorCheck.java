// Curator framework (5.x) against Coracle: containers for parents, protected ephemeral
// sequential nodes, transactions with check, persistent watchers (addWatch), EnsembleTracker's
// watch on /zookeeper/config. Compiled only when Curator's jars are present.
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.*;
import org.apache.curator.framework.api.transaction.*;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.Stat;

public class CuratorCheck {
  public static void run(String hosts) throws Exception {
    CuratorFramework c = CuratorFrameworkFactory.newClient(hosts, 10000, 5000, new RetryNTimes(3, 200));
    c.start();
    if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) throw new IllegalStateException("curator connect");
    byte[] v = "c".getBytes(StandardCharsets.UTF_8);
    String p = c.create().creatingParentContainersIfNeeded().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/cur/a/b/lock-", v);
    if (!p.startsWith("/cur/a/b/_c_")) throw new IllegalStateException("protected name " + p);
    Stat parent = c.checkExists().forPath("/cur/a/b");
    if (parent == null || parent.getEphemeralOwner() != 0) throw new IllegalStateException("container parent");
    System.out.println("OK curator: creatingParentContainersIfNeeded + protection");
    CuratorOp op1 = c.transactionOp().create().forPath("/cur/t", v);
    CuratorOp op2 = c.transactionOp().check().withVersion(0).forPath("/cur/t");
    CuratorOp op3 = c.transactionOp().setData().forPath("/cur/t", v);
    List<CuratorTransactionResult> res = c.transaction().forOperations(op1, op2, op3);
    if (res.size() != 3) throw new IllegalStateException("transaction results");
    System.out.println("OK curator: transaction with check");
    BlockingQueue<String> ev = new LinkedBlockingQueue<>();
    c.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher((Watcher) e -> ev.add(e.getType() + " " + e.getPath())).forPath("/cur");
    c.setData().forPath("/cur/t", v);
    String e = ev.poll(5, TimeUnit.SECONDS);
    if (!"NodeDataChanged /cur/t".equals(e)) throw new IllegalStateException("persistent watcher event " + e);
    System.out.println("OK curator: persistent recursive watcher");
    byte[] config = c.getConfig().forEnsemble();
    if (config == null) throw new IllegalStateException("config");
    System.out.println("OK curator: getConfig");
    c.close();
  }
}
