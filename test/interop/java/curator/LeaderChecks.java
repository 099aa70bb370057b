// Curator's leader election: LeaderLatch (the lowest ephemeral-sequential node leads, the others
// watch their predecessor) and LeaderSelector (a mutex-based queue of candidates taking turns).
// Checked: exactly one leader at a time, the recipes agree with each other on who it is, and
// leadership moves when the leader leaves.
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;

final class LeaderChecks {
  private LeaderChecks() {}

  /** The latches that currently claim leadership. */
  static List<LeaderLatch> leaders(Collection<LeaderLatch> latches) {
    List<LeaderLatch> l = new ArrayList<>();
    for (LeaderLatch x : latches) if (x.hasLeadership()) l.add(x);
    return l;
  }

  /**
   * Waits until exactly one latch leads and every latch's view of the leader (getLeader, read
   * from the server) names it; then samples for a while to see that the count stays one.
   */
  static LeaderLatch settle(List<LeaderLatch> latches) throws Exception {
    CuratorRecipes.await("exactly one leader", 10_000, () -> leaders(latches).size() == 1);
    LeaderLatch leader = leaders(latches).get(0);
    for (LeaderLatch l : latches) {
      Participant p = l.getLeader();
      CuratorRecipes.expect(p.isLeader() && p.getId().equals(leader.getId()), l.getId() + " sees leader " + p.getId() + ", not " + leader.getId());
      CuratorRecipes.expect(l.getParticipants().size() == latches.size(), "participants of " + l.getId());
    }
    for (int i = 0; i < 10; i++) {
      CuratorRecipes.expect(leaders(latches).size() == 1, "a second leader appeared");
      Thread.sleep(20);
    }
    return leader;
  }

  static String leaderLatch(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("latch");
    List<LeaderLatch> latches = new ArrayList<>();
    for (String id : new String[] {"a", "b", "c"}) {
      LeaderLatch l = new LeaderLatch(ctx.client(), path, id);
      latches.add(l);
      ctx.closeLater(l);
      l.start();
      // Start in order so the sequence numbers, and so the succession, are deterministic.
      CuratorRecipes.await("latch " + id + " has its node", 5000, () -> l.getOurPath() != null);
    }
    List<String> succession = new ArrayList<>();
    List<Integer> participants = new ArrayList<>();
    while (!latches.isEmpty()) {
      LeaderLatch leader = settle(latches);
      succession.add(leader.getId());
      participants.add(latches.size());
      CuratorRecipes.expect(leader.await(1, TimeUnit.SECONDS), "await() on the leader returns true");
      latches.remove(leader);
      leader.close(); // deletes its node: the next in line's watch fires
    }
    return "succession=" + succession + " participants=" + participants;
  }

  static String leaderSelector(CuratorRecipes.Ctx ctx) throws Exception {
    String path = ctx.path("selector");
    int candidates = 3;
    int terms = 6;
    AtomicInteger inOffice = new AtomicInteger();
    AtomicInteger maxInOffice = new AtomicInteger();
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(terms);
    List<LeaderSelector> selectors = new ArrayList<>();
    for (int i = 0; i < candidates; i++) {
      String id = "s" + i;
      CuratorFramework c = ctx.client();
      LeaderSelector s = new LeaderSelector(c, path, new LeaderSelectorListenerAdapter() {
        @Override
        public void takeLeadership(CuratorFramework client) throws Exception {
          maxInOffice.accumulateAndGet(inOffice.incrementAndGet(), Math::max);
          try {
            order.add(id);
            Thread.sleep(50);
          } finally {
            inOffice.decrementAndGet();
            done.countDown();
          }
        }
      });
      s.setId(id);
      s.autoRequeue(); // rejoin the queue after each term: leadership rotates
      selectors.add(s);
      ctx.closeLater(s);
    }
    for (LeaderSelector s : selectors) s.start();
    CuratorRecipes.expect(done.await(20, TimeUnit.SECONDS), "six terms within 20 s, saw " + order);
    for (LeaderSelector s : selectors) s.close();
    Set<String> distinct = new TreeSet<>(order.subList(0, terms));
    boolean alternates = true;
    for (int i = 1; i < terms; i++) if (order.get(i).equals(order.get(i - 1))) alternates = false;
    return "terms>=" + terms + " maxInOffice=" + maxInOffice.get() + " everyoneLed=" + (distinct.size() == candidates)
        + " noBackToBack=" + alternates;
  }
}
