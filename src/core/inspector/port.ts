/**
 * The inspector's own origin (`--inspect`): a second port on the server's host whose connections
 * the server's HTTP server takes as its own (so the Host guard, the cross-site rule and the
 * handshake checks apply there too), and where only the inspector answers: its page, its two
 * files and its feed; anything else is 404. No page of the folder is ever served on this origin,
 * so none can reach the inspector through a service worker (whose scope is its own origin) or
 * read what the inspector keeps in the browser's storage. Its port is a new free one each run by
 * default, so no origin the user serves another day (another program, another run with that
 * --port) is ever the inspector's: nothing it left there (storage, a service worker) reaches it.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Guard } from '../guard';
import type { InspectorServer } from './server';
import { decodePathSegments } from '../http/resolve';
import { sendError } from '../http/respond';
import { originRefusal, refuseUpgrade, type Refusal } from '../ws/accept';

const NOT_HERE = 'Only the Echo Preview inspector is served on this port; the folder is on the other one.';

/** Binds the listener to `port` on the server's host; rejects with the start's error (PORT_IN_USE, …) naming the inspector's port. */
export type Listen = (port: number) => Promise<void>;

/** How many times a port the system hands out is given back because it is the server's own. */
const OWN_PORT_RETRIES = 5;

export class InspectorPort {
  /** Bound by bind(), on the server's host. */
  readonly listener: Server;
  /** What answers here; until it is set (the start is not over), every path is 404. */
  inspector: InspectorServer | undefined;
  private readonly accepted = new WeakSet<Socket>();

  constructor(
    http: HttpServer,
    private readonly guard: Guard,
  ) {
    this.listener = createServer({ noDelay: true }, (socket) => {
      this.accepted.add(socket);
      // Node's documented way to hand a connection to an HTTP server that did not accept it.
      http.emit('connection', socket);
    });
  }

  /**
   * Takes the inspector's port, before the server's `port` is taken: `explicit` when given (a
   * failure is the start's failure), else a free port the system hands out, never `port`.
   * `listen` binds this.listener and rejects with the start's error.
   */
  async bind(port: number, explicit: number | undefined, listen: Listen): Promise<void> {
    if (explicit !== undefined) return listen(explicit);
    // The system may hand out the server's own port (free until the server takes it): not that one.
    for (let tries = 0; ; tries++) {
      await listen(0);
      if (port === 0 || this.port !== port || tries === OWN_PORT_RETRIES) return;
      await this.close();
    }
  }

  /** The bound port (once listening). */
  get port(): number {
    return (this.listener.address() as AddressInfo).port;
  }

  /** True for a request (or upgrade) that came in on this port. */
  has(req: IncomingMessage): boolean {
    return this.accepted.has(req.socket as Socket);
  }

  /** Answers a GET or HEAD that came in here, the Host guard passed: the inspector's page or files, else 404. */
  async serve(res: ServerResponse, pathname: string, authority: string): Promise<void> {
    const decoded = decodePathSegments(pathname);
    const answer = decoded.ok ? this.inspector?.route(decoded.segments, decoded.directoryForm) : undefined;
    if (answer === undefined) return sendError(res, 404, NOT_HERE);
    await answer(res, authority);
  }

  /** A WebSocket handshake that came in here, Host checked: the feed, for its own page only; any other path is 404. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string | undefined, refused: (refusal: Refusal) => void): void {
    const inspector = this.inspector;
    if (inspector === undefined || pathname === undefined || !inspector.isFeed(pathname)) {
      return refuseUpgrade(req, socket, head, { status: 404, reason: NOT_HERE, what: 'path' }, refused);
    }
    const admit = (): Refusal | undefined => originRefusal(this.guard.checkOwnOrigin(req.headers.origin, this.port));
    inspector.handleUpgrade(req, socket, head, { admit, refused });
  }

  /** Stops listening; resolves once every connection that came in here has closed. */
  close(): Promise<void> {
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }
}
