/**
 * The peer transport: one {@link PeerSender} per other member, kept in step with the member
 * table (a member added gets a link, a removed one loses it, an updated one is re-dialled),
 * plus the routing of outgoing raft messages by their `to` field. Messages to unknown ids are
 * dropped and reported unreachable.
 */
import { Logger } from '../util/logger';
import { Message } from '../raft/types';
import { MemberRecord } from '../cluster/member-table';
import { PeerResponse, PeerSender } from './peer-sender';

/** What the transport needs from its owner. */
export interface PeerTransportOptions {
  localId: bigint;
  clusterId: bigint;
  logger: Logger;
  onUnreachable(id: bigint): void;
  onRemoved(): void;
}

/** Links to every other member. */
export class PeerTransport {
  private readonly senders = new Map<bigint, PeerSender>();
  private readonly startedAt = Date.now();

  constructor(private readonly options: PeerTransportOptions) {}

  /** Makes the links match `members` (this member is skipped). */
  setPeers(members: MemberRecord[]): void {
    const wanted = new Map<bigint, MemberRecord>();
    for (const m of members) if (m.id !== this.options.localId && m.peerUrls.length > 0) wanted.set(m.id, m);
    for (const [id, s] of this.senders) {
      if (!wanted.has(id)) {
        s.close();
        this.senders.delete(id);
      }
    }
    for (const [id, m] of wanted) {
      const s = this.senders.get(id);
      if (s) s.updateUrls(m.peerUrls);
      else this.senders.set(id, this.newSender(m));
    }
  }

  /** Sends raft messages to their targets (fire and forget; drops are reported). */
  send(messages: Message[]): void {
    for (const m of messages) {
      const s = this.senders.get(m.to);
      if (s) s.send(m);
      else this.options.onUnreachable(m.to);
    }
  }

  /**
   * Since when (Date.now ms) the link to `id` has been up; 0 when down or unknown. This member
   * counts as active since the transport started.
   */
  activeSince(id: bigint): number {
    if (id === this.options.localId) return this.startedAt;
    return this.senders.get(id)?.activeSince ?? 0;
  }

  /** A JSON request to member `id`. */
  request(id: bigint, path: string, body: unknown, timeoutMs: number): Promise<PeerResponse> {
    const s = this.senders.get(id);
    if (!s) return Promise.reject(new Error(`no link to member ${id.toString(16)}`));
    return s.request(path, body, timeoutMs);
  }

  /** Closes every link. */
  close(): void {
    for (const s of this.senders.values()) s.close();
    this.senders.clear();
  }

  private newSender(m: MemberRecord): PeerSender {
    const o = this.options;
    return new PeerSender({
      localId: o.localId,
      remoteId: m.id,
      clusterId: o.clusterId,
      urls: m.peerUrls,
      logger: o.logger.child({ peer: m.id.toString(16) }),
      onUnreachable: (id) => o.onUnreachable(id),
      onRemoved: () => o.onRemoved(),
    });
  }
}
