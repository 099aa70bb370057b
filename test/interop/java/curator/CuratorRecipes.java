// Apache Curator's recipes (Debian's Curator 5.4 on ZooKeeper's 3.8 client) against a ZooKeeper
// connect string: the program test/interop/curator.test.ts runs against Coracle and against a
// real ZooKeeper 3.8, so a check that fails on ZooKeeper is a bug in the check, not in Coracle.
//
// Usage: java CuratorRecipes <connectString> [check ...]   (no names: every check)
//
// Output, one line per check, then a summary (machine-readable; the test parses these):
//   RESULT <check> ok <details>       details are deterministic facts (counts, event lists)
//   RESULT <check> fail <reason>      so the same line is expected from both servers
//   DONE <passed> <failed>
// Every check runs under its own deadline in its own root path (/recipes/<check>), with its own
// clients closed afterwards; the JVM exits explicitly so a stuck Curator thread cannot hang it.
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.ZooKeeper;

public class CuratorRecipes {
  /** One named check: returns its deterministic details, throws on failure. */
  interface Check {
    String run(Ctx ctx) throws Exception;
  }

  /** Per-check context: the check's root path and the clients it opened. */
  static final class Ctx {
    final String connect;
    final String root;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    Ctx(String connect, String root) {
      this.connect = connect;
      this.root = root;
    }

    /** A started client with its own session (distinct sessions are what the recipes coordinate). */
    CuratorFramework client() throws InterruptedException {
      return client(10_000);
    }

    /** A started client asking for a session timeout of `sessionMs`. */
    CuratorFramework client(int sessionMs) throws InterruptedException {
      return client(sessionMs, b -> b);
    }

    /** A started client built with `tweak` applied (namespace, authorization, ACL provider...). */
    CuratorFramework client(int sessionMs, UnaryOperator<CuratorFrameworkFactory.Builder> tweak) throws InterruptedException {
      // Short timeouts keep a broken server from stalling a check past its deadline; the retry
      // policy is bounded for the same reason.
      CuratorFramework c = tweak.apply(CuratorFrameworkFactory.builder()
          .connectString(connect)
          .sessionTimeoutMs(sessionMs)
          .connectionTimeoutMs(5_000)
          .retryPolicy(new RetryNTimes(5, 200)))
          .build();
      c.start();
      closeables.add(c);
      if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) throw new IllegalStateException("client did not connect in 10 s");
      return c;
    }

    /** Registers a recipe to close (in reverse order) before the clients. */
    <T extends AutoCloseable> T closeLater(T recipe) {
      closeables.add(recipe);
      return recipe;
    }

    /** `root + "/" + name`. */
    String path(String name) {
      return root + "/" + name;
    }

    void closeAll() {
      for (int i = closeables.size() - 1; i >= 0; i--) {
        try {
          closeables.get(i).close();
        } catch (Exception ignored) {
          // Closing after a failure may fail again; the first failure is the one reported.
        }
      }
      closeables.clear();
    }
  }

  /** Throws with `what` unless `ok`. */
  static void expect(boolean ok, String what) {
    if (!ok) throw new IllegalStateException(what);
  }

  /** Polls `cond` every 20 ms until true or `timeoutMs` passes; throws naming `what` on timeout. */
  static void await(String what, long timeoutMs, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("timed out after " + timeoutMs + " ms waiting for " + what);
      Thread.sleep(20);
    }
  }

  /** Takes the next item of `q` within `timeoutMs`, or throws naming `what`. */
  static <T> T next(BlockingQueue<T> q, String what, long timeoutMs) throws InterruptedException {
    T v = q.poll(timeoutMs, TimeUnit.MILLISECONDS);
    if (v == null) throw new IllegalStateException("no " + what + " within " + timeoutMs + " ms");
    return v;
  }

  /**
   * Cuts the client's TCP connection without ending its session, as a network blip would: the
   * client reconnects with the same session and re-registers its watches (SetWatches, or
   * SetWatches2 when it holds persistent ones). Uses the client's own test hook by reflection.
   */
  static void dropConnection(CuratorFramework c) throws Exception {
    ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
    Object cnxn = field(ZooKeeper.class, "cnxn").get(zk);
    Object sendThread = field(cnxn.getClass(), "sendThread").get(cnxn);
    Method getSocket = sendThread.getClass().getDeclaredMethod("getClientCnxnSocket");
    getSocket.setAccessible(true);
    Object socket = getSocket.invoke(sendThread);
    Method close = socket.getClass().getSuperclass().getDeclaredMethod("testableCloseSocket");
    close.setAccessible(true);
    close.invoke(socket);
  }

  /** The paths the client holds persistent recursive watches on (registered after the server said OK). */
  @SuppressWarnings("unchecked")
  static List<String> persistentRecursiveWatches(CuratorFramework c) throws Exception {
    Method m = ZooKeeper.class.getDeclaredMethod("getPersistentRecursiveWatches");
    m.setAccessible(true);
    return (List<String>) m.invoke(c.getZookeeperClient().getZooKeeper());
  }

  /** The paths of the client's one-shot (data, exist, child) watches, sorted. */
  @SuppressWarnings("unchecked")
  static List<String> oneShotWatches(CuratorFramework c) throws Exception {
    List<String> paths = new ArrayList<>();
    for (String name : new String[] {"getDataWatches", "getExistWatches", "getChildWatches"}) {
      Method m = ZooKeeper.class.getDeclaredMethod(name);
      m.setAccessible(true);
      paths.addAll((List<String>) m.invoke(c.getZookeeperClient().getZooKeeper()));
    }
    Collections.sort(paths);
    return paths;
  }

  static Field field(Class<?> cls, String name) throws NoSuchFieldException {
    Field f = cls.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }

  /** Every check, in run order. Names are the protocol between this program and the test. */
  static Map<String, Check> checks() {
    Map<String, Check> m = new LinkedHashMap<>();
    m.put("framework", FrameworkChecks::framework);
    m.put("transaction", FrameworkChecks::transaction);
    m.put("containers", FrameworkChecks::containers);
    m.put("add-watch", FrameworkChecks::addWatch);
    m.put("mutex", LockChecks::mutex);
    m.put("mutex-session-close", LockChecks::mutexSessionClose);
    m.put("semaphore", LockChecks::semaphore);
    m.put("read-write-lock", LockChecks::readWriteLock);
    m.put("leader-latch", LeaderChecks::leaderLatch);
    m.put("leader-selector", LeaderChecks::leaderSelector);
    m.put("curator-cache", CacheChecks::curatorCache);
    m.put("curator-cache-reconnect", CacheChecks::curatorCacheReconnect);
    m.put("node-cache", CacheChecks::nodeCache);
    m.put("path-children-cache", CacheChecks::pathChildrenCache);
    m.put("atomic-long", SharedChecks::atomicLong);
    m.put("shared-count", SharedChecks::sharedCount);
    m.put("queue", SharedChecks::queue);
    m.put("barrier", SharedChecks::barrier);
    m.put("persistent-node", NodeChecks::persistentNode);
    m.put("remove-watches", EdgeChecks::removeWatches);
    m.put("many-contenders", EdgeChecks::manyContenders);
    m.put("group-member", EdgeChecks::groupMember);
    m.put("tree-cache", EdgeChecks::treeCache);
    m.put("big-transaction", EdgeChecks::bigTransaction);
    m.put("session-expiry", EdgeChecks::sessionExpiry);
    m.put("session-killed", EdgeChecks::sessionKilled);
    m.put("namespace", ClientChecks::namespace);
    m.put("acl", ClientChecks::acl);
    m.put("session-negotiation", ClientChecks::sessionNegotiation);
    // These two wait for the server's container/TTL reaper: the server must run it often.
    m.put("container-reaping", NodeChecks::containerReaping);
    m.put("ttl-node", NodeChecks::ttlNode);
    return m;
  }

  /** Bound on one check; the test's own timeout is above the sum of these for the checks it runs. */
  static final long CHECK_TIMEOUT_MS = 30_000;

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: CuratorRecipes <connectString> [check ...]");
      System.exit(2);
    }
    Map<String, Check> all = checks();
    List<String> names = args.length > 1 ? Arrays.asList(args).subList(1, args.length) : new ArrayList<>(all.keySet());
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "check");
      t.setDaemon(true);
      return t;
    });
    int passed = 0;
    int failed = 0;
    for (String name : names) {
      Check check = all.get(name);
      String line;
      if (check == null) {
        line = "fail unknown check";
      } else {
        Ctx ctx = new Ctx(args[0], "/recipes/" + name);
        long started = System.nanoTime();
        Future<String> f = pool.submit(() -> check.run(ctx));
        try {
          line = "ok " + f.get(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          f.cancel(true);
          line = "fail timed out after " + CHECK_TIMEOUT_MS + " ms";
        } catch (ExecutionException e) {
          line = "fail " + describe(e.getCause());
        } catch (InterruptedException e) {
          line = "fail interrupted";
        } finally {
          ctx.closeAll();
        }
        System.err.printf("check %s took %d ms%n", name, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      }
      if (line.startsWith("ok")) passed++;
      else failed++;
      System.out.println("RESULT " + name + " " + line.replace('\n', ' '));
      System.out.flush();
    }
    System.out.println("DONE " + passed + " " + failed);
    System.out.flush();
    System.exit(0);
  }

  static String describe(Throwable t) {
    StringBuilder sb = new StringBuilder(t.toString());
    StackTraceElement[] st = t.getStackTrace();
    for (int i = 0; i < Math.min(3, st.length); i++) sb.append(" at ").append(st[i]);
    return sb.toString();
  }
}
