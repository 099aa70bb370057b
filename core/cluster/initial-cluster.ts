/**
 * `--initial-cluster name=peerURL,…` (etcd.md §4.1, §4.3): parsing and the checks etcd makes
 * before a first boot, with etcd's error texts so operators can search for them. A name may
 * appear several times (one entry per peer URL). Only read on first boot: afterwards the
 * member table in the data dir is the truth.
 */
import { computeClusterId, computeMemberId } from './member-id';
import { MemberRecord } from './member-table';

/** A usage error in the cluster flags (the process exits with a message, not a stack). */
export class ClusterConfigError extends Error {}

/** The parsed flag: name → its peer URLs, in flag order. */
export type InitialCluster = Map<string, string[]>;

/** Parses `name=url,name=url`. An empty string means `defaultName=defaultUrls` (etcd's default). */
export function parseInitialCluster(text: string, defaultName: string, defaultUrls: string[]): InitialCluster {
  const out: InitialCluster = new Map();
  if (text.trim() === '') {
    out.set(defaultName, [...defaultUrls]);
    return out;
  }
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ClusterConfigError(`invalid --initial-cluster entry '${item}' (want name=peerURL)`);
    const name = item.slice(0, eq);
    const url = item.slice(eq + 1);
    checkPeerUrl(url);
    const urls = out.get(name) ?? [];
    urls.push(url);
    out.set(name, urls);
  }
  return out;
}

/** Throws unless `url` is an absolute http(s) URL with a host and port. */
export function checkPeerUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClusterConfigError(`invalid peer URL '${url}'`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) throw new ClusterConfigError(`invalid peer URL '${url}' (want http://host:port)`);
}

/** True when the two URL lists hold the same URLs (order ignored). */
export function sameUrls(a: string[], b: string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((u, i) => u === y[i]);
}

/**
 * The checks etcd runs on `--initial-cluster` for this member (`hasLocalMember`,
 * `advertiseMatchesCluster`, duplicate URLs), with etcd's texts.
 */
export function verifyInitialCluster(cluster: InitialCluster, name: string, advertisePeerUrls: string[], joining: boolean): void {
  const own = cluster.get(name);
  if (!own) throw new ClusterConfigError(`couldn't find local name "${name}" in the initial cluster configuration`);
  const seen = new Set<string>();
  for (const urls of cluster.values()) {
    for (const u of urls) {
      if (seen.has(u)) throw new ClusterConfigError(`initial cluster ${formatInitialCluster(cluster)} has duplicate url`);
      seen.add(u);
    }
  }
  if (!joining && !sameUrls(own, advertisePeerUrls)) {
    const mine = advertisePeerUrls.map((u) => `${name}=${u}`).join(',');
    throw new ClusterConfigError(`--initial-cluster must include ${mine} given --initial-advertise-peer-urls=${advertisePeerUrls.join(',')}`);
  }
}

/** The flag's text form. */
export function formatInitialCluster(cluster: InitialCluster): string {
  const parts: string[] = [];
  for (const [n, urls] of cluster) for (const u of urls) parts.push(`${n}=${u}`);
  return parts.join(',');
}

/**
 * The members of a new cluster with etcd's ids (member id from its peer URLs and the token;
 * cluster id from all member ids), ordered by id.
 */
export function initialMembers(cluster: InitialCluster, token: string): { members: MemberRecord[]; clusterId: bigint } {
  const members: MemberRecord[] = [];
  for (const [name, urls] of cluster) {
    members.push({ id: computeMemberId(urls, token), name, peerUrls: [...urls], clientUrls: [], isLearner: false });
  }
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { members, clusterId: computeClusterId(members.map((m) => m.id)) };
}
