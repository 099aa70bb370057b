/**
 * The server side of the SASL GSSAPI mechanism (RFC 4752), as the JDK's GssKrb5Server runs it
 * for a ZooKeeper server whose JAAS `Server` section logs in with Krb5LoginModule:
 *
 * 1. the client's initial token (a framed AP-REQ) → our AP-REP token when it asked for mutual
 *    authentication (it then answers with an empty token), else straight to step 2;
 * 2. → a Wrap token offering security layers: "none" only (ZooKeeper's qop `auth`), and a
 *    maximum buffer of 65536 bytes, as the JDK sends;
 * 3. the client's Wrap token: its chosen layer, buffer size and authorization id → done, with no
 *    final token.
 *
 * The authorization id must be empty or equal the authenticated principal, unless the principal
 * is a super user (ZooKeeper's SaslServerCallbackHandler). The identity granted is the
 * principal mapped as principal-identity.ts says.
 */
import { DerError } from './der';
import { type AcceptorOptions, type GssContext, GssError, acceptSecContext, unwrap, wrap } from './gss-krb5';
import { KrbCryptoError } from './krb-crypto-error';
import { PrincipalMapping, identityOf } from './principal-identity';

/** How a finished exchange maps the principal to ZooKeeper's `sasl` identity. */
export interface GssapiIdentityOptions extends PrincipalMapping {
  /** zookeeper.superUser: principals that may act under another authorization id. */
  superUsers?: readonly string[];
}

/**
 * One step's result: a token to send (null for the final step, as the JDK's server returns and
 * ZooKeeper sends as a null buffer), and the identity once the exchange is complete.
 */
export interface GssapiStep {
  complete: boolean;
  token: Buffer | null;
  /** The `sasl` identity, set when complete. */
  username?: string;
  /** Why the principal was not mapped by the auth_to_local rules, when it was not (for the log). */
  warning?: string;
}

const LAYER_NONE = 1;
const MAX_BUFFER = 65536;

/** One connection's GSSAPI exchange; every failure throws {@link GssError} and ends it. */
export class GssapiServer {
  private state: 'initial' | 'awaitEmpty' | 'awaitLayer' | 'done' | 'failed' = 'initial';
  private context: GssContext | undefined;

  constructor(
    private readonly acceptor: AcceptorOptions,
    private readonly identity: GssapiIdentityOptions,
  ) {}

  /** Runs the next step with the client's `token`. */
  evaluate(token: Buffer): GssapiStep {
    try {
      return this.step(token);
    } catch (e) {
      this.state = 'failed';
      if (e instanceof GssError) throw e;
      // DER and crypto errors are the client's bad token: a refusal, not a server fault.
      if (e instanceof DerError || e instanceof KrbCryptoError) throw new GssError(e.message);
      throw e;
    }
  }

  private step(token: Buffer): GssapiStep {
    switch (this.state) {
      case 'initial': {
        const { context, output } = acceptSecContext(token, this.acceptor);
        this.context = context;
        if (output) {
          this.state = 'awaitEmpty';
          return { complete: false, token: output };
        }
        return this.offer();
      }
      case 'awaitEmpty':
        if (token.length !== 0) throw new GssError('expected an empty response after the AP-REP');
        return this.offer();
      case 'awaitLayer':
        return this.finish(unwrap(this.context!, token));
      default:
        throw new GssError(this.state === 'done' ? 'the exchange is already complete' : 'the exchange has failed');
    }
  }

  private offer(): GssapiStep {
    this.state = 'awaitLayer';
    const offer = Buffer.alloc(4);
    offer.writeUInt32BE(MAX_BUFFER);
    offer[0] = LAYER_NONE;
    return { complete: false, token: wrap(this.context!, offer) };
  }

  private finish(reply: Buffer): GssapiStep {
    if (reply.length < 4) throw new GssError('security layer reply shorter than 4 bytes');
    if (reply[0] !== LAYER_NONE) throw new GssError(`the client chose security layer ${reply[0]}, but only "none" (1) was offered`);
    const principal = this.context!.client;
    const authzid = reply.subarray(4).toString('utf8');
    if (authzid !== '' && authzid !== principal && !(this.identity.superUsers ?? []).includes(principal)) {
      throw new GssError(`${principal} may not act as ${authzid}`);
    }
    this.state = 'done';
    const { identity, warning } = identityOf(principal, this.identity);
    return { complete: true, token: null, username: identity, warning };
  }
}
