import type { IncomingMessage, ServerResponse } from 'node:http';
import { TAP } from './tap';

/**
 * Own properties added to an object whose prototype was replaced cost far more on the V8 of Node
 * 20 and 22 than anywhere else: Express replaces the prototypes of `req` and `res` with its own on
 * every request (`Object.setPrototypeOf`), and each property added to them afterwards took about
 * 4–5 µs per request there, with the garbage it leaves (bench/README.md "Properties added after
 * Express's prototype switch"). A property that already exists when the prototype changes is a
 * plain store afterwards. So for such an adapter the symbols it sets on each request, and the
 * response tap's, are defined (as undefined) before the framework sees the request, by a
 * `'request'` listener prepended on the server the request came to. Node 24+ does not need it.
 */
const NEEDED = Number(process.versions.node.split('.')[0]) < 24;

type SlotServer = { prependListener(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown };
type Slotted = Record<symbol, unknown>;

/**
 * Returns what the adapter calls with each request it sees (undefined when nothing is needed):
 * on the first request from a server, it prepends the listener that defines `requestSlots` on
 * `req` and the tap's slot on `res` for that server's later requests. Never throws.
 */
export function slotReserver(requestSlots: readonly symbol[] | undefined): ((req: IncomingMessage) => void) | undefined {
  if (!NEEDED || requestSlots === undefined || requestSlots.length === 0) return undefined;
  const keys = requestSlots.slice();
  const define = function tracewireReserveSlots(req: IncomingMessage, res: ServerResponse): void {
    try {
      for (let i = 0; i < keys.length; i++) (req as unknown as Slotted)[keys[i]] = undefined;
      (res as unknown as Slotted)[TAP] = undefined;
    } catch {
      // A request that takes no new property (frozen): nothing to reserve; the server goes on.
    }
  };
  // Servers whose requests already get these slots (weakly: a closed server is not kept).
  const reserved = new WeakSet<object>();
  return (req: IncomingMessage): void => {
    const socket = req.socket as (IncomingMessage['socket'] & { server?: unknown }) | null;
    const server = socket !== null && socket !== undefined ? socket.server : undefined;
    if (server === null || typeof server !== 'object' || reserved.has(server)) return;
    reserved.add(server);
    try {
      if (typeof (server as Partial<SlotServer>).prependListener === 'function') (server as SlotServer).prependListener('request', define);
    } catch {
      // Only a cost: the slots are then added where they are set.
    }
  };
}
