/**
 * Short names people recognise for clients: the inspector itself, a browser and its version,
 * or a tool by its user agent. Origins and targets go beside the name (clientDetail): the tabs
 * of one server share its origin, so the id (#3) is what tells them apart.
 */
import { OWN_CLIENT_PARAM, type ClientDTO } from '../../shared/protocol';

/** Browsers in the order their user agents must be tested (Edge and Opera also say Chrome). */
const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bHeadlessChrome\/(\d+)/, 'Headless Chrome'],
  [/\b(?:Chrome|Chromium|CriOS)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

/** `Chrome 140`, or undefined when the user agent is no browser we know. */
export function browserOf(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(userAgent);
    if (match) return `${name} ${match[1]}`;
  }
  return undefined;
}

/** The value of our marker in a handshake target, if the client is an inspector's own. */
export function ownMarkerOf(target: string): string | undefined {
  const query = target.indexOf('?');
  if (query === -1) return undefined;
  return new URLSearchParams(target.slice(query + 1)).get(OWN_CLIENT_PARAM) ?? undefined;
}

function hostOf(origin: string | undefined): string | undefined {
  if (!origin || origin === 'null') return undefined;
  try {
    return new URL(origin).host || origin;
  } catch {
    return origin;
  }
}

/**
 * The name shown for a client: `This inspector`, another `Inspector`, `Chrome 140 tab` for a
 * page, the tool's user agent (cut to 32 characters), or `↔ upstream of #3` for a proxy's
 * connection to its upstream on behalf of client #3.
 */
export function clientName(client: ClientDTO, ownMarker: string | undefined): string {
  if (client.leg === 'upstream') return `↔ upstream of #${client.peer ?? '?'}`;
  const marker = ownMarkerOf(client.target);
  if (marker !== undefined) return marker === ownMarker ? 'This inspector' : 'Inspector';
  const browser = browserOf(client.userAgent);
  if (browser) return `${browser} tab`;
  if (client.userAgent) return client.userAgent.length > 32 ? `${client.userAgent.slice(0, 31)}…` : client.userAgent;
  return 'No user agent';
}

/** What else tells clients apart: the page's origin, the handshake target (with its query), the remote address. */
export function clientDetail(client: ClientDTO): string {
  const marker = ownMarkerOf(client.target);
  const target = marker === undefined ? client.target : client.endpoint;
  const host = hostOf(client.origin);
  return `${host ? `${host} ` : ''}${target} from ${client.remote || 'unknown address'}`;
}
