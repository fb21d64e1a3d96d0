/**
 * A config file's text, parsed and checked by hand against schemas/echo-preview.schema.json so
 * that every problem names its line and column (the value, or the key that is wrong).
 */
import { didYouMean, nearestNames } from '../../shared/didYouMean';
import { MODE_NAMES, modeOf } from '../endpoints';
import { jsonTypeOf, notOneOf, onlyKeys } from '../endpoints/check';
import type { ConfigPath, EndpointMode, EndpointSpec, JsonObject, JsonValue, SectionCheck } from '../endpoints/types';
import { RESERVED_PREFIX } from '../reserved';
import { wsPathProblem } from '../ws/paths';
import { parseJson, lineColumn, placeKey, type Place } from './json';
import type { ConfigProblem } from './state';

/** The smallest config that loads, which messages suggest. */
const EXAMPLE = '{"endpoints": {"/websocket": {"mode": "echo"}}}';

/** What checking a config needs besides the text. */
export interface CheckEnvironment {
  /** False when a proxy upstream must be loopback (ServerOptions.proxyBeyondLoopback). */
  proxyBeyondLoopback: boolean;
}

export type CheckedConfig = { ok: true; endpoints: EndpointSpec[] } | { ok: false; problem: ConfigProblem };

/** Parses and checks a config file's text; a problem points at the offending text. */
export function checkConfigText(file: string, text: string, env: CheckEnvironment): CheckedConfig {
  // A BOM some editors write; they do not count it as a column, so neither do we.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // The suggestion is a config that loads: one echo endpoint.
  if (/^[ \t\n\r]*$/.test(body)) return { ok: false, problem: { file, ...lineColumn(body, body.length), message: `the file is empty; it needs a JSON object such as ${EXAMPLE}` } };
  const parsed = parseJson(body);
  if (!parsed.ok) return { ok: false, problem: { file, ...lineColumn(body, parsed.offset), message: parsed.message } };
  let found: { path: ConfigPath; message: string; target: 'value' | 'key' } | undefined;
  const report = (at: ConfigPath, message: string, target: 'value' | 'key' = 'value'): void => {
    found ??= { path: at, message, target };
  };
  const endpoints = checkDocument(parsed.value, report, env);
  if (endpoints !== undefined && found === undefined) return { ok: true, endpoints };
  const where = found ?? { path: [], message: 'the config was refused', target: 'value' as const };
  const offset = offsetOf(parsed.places, where.path, where.target);
  return { ok: false, problem: { file, ...lineColumn(body, offset), message: where.message } };
}

/** The offset of the value (or key) at `at`, or of its nearest ancestor that is in the text. */
function offsetOf(places: Map<string, Place>, at: ConfigPath, target: 'value' | 'key'): number {
  for (let length = at.length; length >= 0; length--) {
    const place = places.get(placeKey(at.slice(0, length)));
    if (place === undefined) continue;
    return length === at.length && target === 'key' ? (place.key ?? place.value) : place.value;
  }
  return 0;
}

type Report = (at: ConfigPath, message: string, target?: 'value' | 'key') => void;

const isObject = (value: JsonValue | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkDocument(document: JsonValue, report: Report, env: CheckEnvironment): EndpointSpec[] | undefined {
  if (!isObject(document)) return void report([], `the config must be a JSON object such as ${EXAMPLE}, not ${jsonTypeOf(document)}`);
  const top: SectionCheck = { at: [], problem: (at, message, target) => report(at, message, target), proxyBeyondLoopback: env.proxyBeyondLoopback };
  if (!onlyKeys(document, ['$schema', 'endpoints'], top, 'at the top level')) return undefined;
  if (document.$schema !== undefined && typeof document.$schema !== 'string') return void report(['$schema'], `"$schema" must be a string (a URL or path of the schema)`);
  const endpoints = document.endpoints;
  if (endpoints === undefined) return void report([], `"endpoints" is missing: name at least one path, e.g. ${EXAMPLE}`);
  if (!isObject(endpoints)) return void report(['endpoints'], `"endpoints" must be an object of paths, e.g. {"/websocket": {"mode": "echo"}}, not ${jsonTypeOf(endpoints)}`);
  const paths = Object.keys(endpoints);
  if (paths.length === 0) return void report(['endpoints'], '"endpoints" is empty: name at least one path, e.g. {"/websocket": {"mode": "echo"}}');
  const specs: EndpointSpec[] = [];
  for (const endpointPath of paths) {
    const at = ['endpoints', endpointPath];
    const problem = wsPathProblem(endpointPath);
    if (problem !== undefined) return void report(at, `the endpoint path ${JSON.stringify(endpointPath)} ${problem}; use one absolute path such as /websocket`, 'key');
    if (endpointPath.startsWith(RESERVED_PREFIX) || endpointPath === RESERVED_PREFIX.slice(0, -1)) {
      return void report(at, `the endpoint path ${JSON.stringify(endpointPath)} is under ${RESERVED_PREFIX}, which the server keeps for itself`, 'key');
    }
    const config = checkSection(endpoints[endpointPath], at, report, env);
    if (config === undefined) return undefined;
    specs.push({ path: endpointPath, config });
  }
  return specs;
}

function checkSection(section: JsonValue, at: ConfigPath, report: Report, env: CheckEnvironment): EndpointSpec['config'] | undefined {
  const modes = MODE_NAMES.map((m) => `"${m}"`).join(', ');
  if (!isObject(section)) return void report(at, `an endpoint is an object with a "mode" (${modes}), such as {"mode": "echo"}, not ${jsonTypeOf(section)}`);
  const mode = section.mode;
  if (mode === undefined) {
    // A key that is "mode" mistyped ("mdoe") is reported at that key, as any mistyped name is.
    const typo = Object.keys(section).find((key) => nearestNames(key, ['mode']).length > 0);
    if (typo !== undefined) return void report([...at, typo], `this endpoint has no "mode" (${modes})${didYouMean(typo, ['mode'])}`, 'key');
    return void report(at, `this endpoint has no "mode": use one of ${modes}`);
  }
  if (typeof mode !== 'string' || !(MODE_NAMES as readonly string[]).includes(mode)) {
    return void report([...at, 'mode'], `"mode" must be one of ${modes}${notOneOf(mode, MODE_NAMES)}`);
  }
  const definition = modeOf(mode as EndpointMode);
  if (definition === undefined) return void report([...at, 'mode'], `mode "${mode}" is not available in this version of Echo Preview`);
  const check: SectionCheck = {
    at,
    problem: (relative, message, target) => report([...at, ...relative], message, target),
    proxyBeyondLoopback: env.proxyBeyondLoopback,
  };
  return definition.check(section, check);
}
