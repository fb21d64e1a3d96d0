/**
 * The CLI's arguments: the flag table, the help text, and parsing into ServerOptions. Every
 * mistake becomes one UsageError that names the flag as the person typed it in --help.
 */
import { CAPTURE_DEFAULTS, minBudgetBytes } from '../core/capture/capture';
import { DEFAULTS, MAX_MESSAGE_SIZE, type ServerOptions } from '../core/server';
import * as path from 'node:path';
import { CONFIG_FILE_NAME } from '../core/config/state';
import { parseAuthority, type RefusalAdvice } from '../core/guard';
import { newInspectorToken } from '../core/inspector/server';
import { globToRegExp } from '../core/reload/ignore';
import { didYouMean } from '../shared/didYouMean';

export const USAGE = `Usage: echo-preview [folder] [options]

Serves a folder over HTTP with a WebSocket echo endpoint, or the endpoints and reply modes
(echo, broadcast, script, proxy) of a config file.

Arguments:
  folder                   folder to serve (default: the current folder)

Options:
  -p, --port <n>           port to listen on, 0 for any free port (default: ${DEFAULTS.port})
  -H, --host <address>     address to bind (default: ${DEFAULTS.host})
      --allow-lan          allow a non-loopback --host (the folder becomes reachable from the network)
      --ws-path <path>     path of the WebSocket echo endpoint without a config file (default: ${DEFAULTS.wsPath})
      --config <file>      the config file of WebSocket endpoints (default: ${CONFIG_FILE_NAME} in the folder,
                           if there); applied again whenever it changes
      --max-message-size <bytes>
                           largest WebSocket message, in bytes (default: ${DEFAULTS.maxMessageSize})
      --compression        enable permessage-deflate (off by default: it slows echo down)
      --allow-host <name>  also accept this name in the Host header (repeatable)
      --allow-origin <origin>
                           also accept WebSocket connections from this origin (repeatable)
      --dotfiles           serve dotfiles and dot-directories (hidden by default)
      --allow-cross-site   let pages of other sites load files (<script src>, <img>); refused by default
      --inspect            serve the traffic inspector: every client and frame, push, close, ping;
                           on a port of its own; its URL, with a new secret token each run,
                           is on the ready line
      --inspect-port <n>   the inspector's port (default: a new free port each run, so no page
                           served on a port another day shares its origin)
      --no-reload          no live reload: do not watch the folder, inject nothing into pages
      --reload-ignore <glob>
                           changes under paths matching the glob reload nothing, e.g. "dist/**" or "*.log"
                           (repeatable; .git, node_modules and dotfiles never reload)
      --capture-budget <bytes>
                           memory the inspector's frame log may use (default: ${CAPTURE_DEFAULTS.budgetBytes}, 32 MiB;
                           the oldest frames are dropped and counted beyond it)
  -o, --open               open the page in the default browser
  -q, --quiet              print only the ready line and errors
  -h, --help               show this help
  -v, --version            show the version

Output: one line per request, connection and message. Above ten messages per client per second
(fifty in all), or a hundred requests per second, the rest are counted into one line per second.
`;

/** How a refusal tells a CLI user to open the check up. */
export const ADVICE: RefusalAdvice = {
  host: 'Start echo-preview with --allow-host <name> to accept it.',
  origin: 'Start echo-preview with --allow-origin <origin> to accept it.',
  crossSite: 'Start echo-preview with --allow-cross-site to let other sites load it.',
};

/** A mistake in the arguments, worded for the person: it names the flag. */
export class UsageError extends Error {}

export interface Flag {
  short?: string;
  /** For flags that take a value: what the value is, for "needs a value (...)". */
  value?: string;
  multiple?: boolean;
}

/** The one flag table: parsing, "did you mean", and `npm start` (namesFolder) all read it. */
export const FLAGS: Readonly<Record<string, Flag>> = {
  port: { short: 'p', value: 'a port number, 0 for any free port' },
  host: { short: 'H', value: 'an address to bind, e.g. 127.0.0.1' },
  'allow-lan': {},
  'ws-path': { value: 'a path starting with "/", e.g. /websocket' },
  config: { value: `a JSON file, e.g. ${CONFIG_FILE_NAME}` },
  'max-message-size': { value: 'a number of bytes, e.g. 16777216 for 16 MiB' },
  compression: {},
  'allow-host': { value: 'a host name, e.g. myhost.local', multiple: true },
  'allow-origin': { value: 'an origin, e.g. http://localhost:3000', multiple: true },
  dotfiles: {},
  'allow-cross-site': {},
  inspect: {},
  'inspect-port': { value: 'a port number for the inspector, 0 for any free port' },
  'no-reload': {},
  'reload-ignore': { value: 'a glob such as "dist/**" or "*.log"', multiple: true },
  'capture-budget': { value: 'a number of bytes, e.g. 67108864 for 64 MiB' },
  open: { short: 'o' },
  quiet: { short: 'q' },
  help: { short: 'h' },
  version: { short: 'v' },
};

const BY_SHORT = new Map(Object.entries(FLAGS).flatMap(([name, flag]) => (flag.short ? [[flag.short, name] as const] : [])));

export interface CliConfig {
  options: ServerOptions;
  open: boolean;
  quiet: boolean;
  /** --ws-path was given (a config file's endpoints override it: cli/main.ts warns). */
  wsPathGiven: boolean;
}

/** What a person typed, quoted for a message (cli/main.ts escapes control characters in every error line). */
function quote(text: string): string {
  return `"${text}"`;
}

/** Splits argv into flags and positionals: --name, --name=value, -p value, -p8080, -qo, and -- . */
function scan(argv: readonly string[]): { values: Map<string, string[]>; positionals: string[] } {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const set = (name: string, value: string): void => {
    const flag = FLAGS[name];
    if (flag.value !== undefined && value === '') throw new UsageError(`--${name} needs a value (${flag.value})`);
    values.set(name, flag.multiple ? [...(values.get(name) ?? []), value] : [value]);
  };
  /** The value after a flag that takes one, or an error if the next argument is not one. */
  const valueAfter = (name: string, index: number): string => {
    const next = argv[index];
    // "--port --quiet" forgot the value; "--port -1" gave a (bad) number, which is reported as such.
    if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
      throw new UsageError(`--${name} needs a value (${FLAGS[name].value})`);
    }
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = arg.slice(2, equals === -1 ? undefined : equals);
      const flag = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
      if (flag === undefined) throw new UsageError(unknownOption(`--${name}`));
      if (flag.value === undefined) {
        if (equals !== -1) throw new UsageError(`--${name} takes no value, not ${quote(arg.slice(equals + 1))}`);
        values.set(name, ['']);
      } else if (equals !== -1) {
        set(name, arg.slice(equals + 1));
      } else {
        set(name, valueAfter(name, ++i));
      }
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        const name = BY_SHORT.get(arg[j]);
        if (name === undefined) throw new UsageError(unknownOption(`-${arg[j]}`));
        if (FLAGS[name].value === undefined) {
          values.set(name, ['']);
          continue;
        }
        const rest = arg.slice(j + 1);
        if (rest.startsWith('=')) set(name, rest.slice(1));
        else set(name, rest !== '' ? rest : valueAfter(name, ++i));
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals };
}

/**
 * Whether `argv` names a folder, read as parseArgs reads it, so a flag's value (`--config FILE`)
 * is never taken for one; false when it does not parse (the CLI then says why). `npm start`
 * (scripts/start.mjs) asks this to serve its demo only when no folder is given.
 */
export function namesFolder(argv: readonly string[]): boolean {
  try {
    return scan(argv).positionals.length > 0;
  } catch (error) {
    if (error instanceof UsageError) return false;
    throw error;
  }
}

function unknownOption(option: string): string {
  const typed = option.replace(/^-+/, '');
  // A long option that starts a flag's name (--allow), else the nearest names within two edits.
  return `unknown option ${option}${didYouMean(typed, Object.keys(FLAGS), (name) => `--${name}`, { prefix: option.startsWith('--') })}`;
}

function wholeNumber(flag: string, text: string, min: number, max: number, unit = ''): number {
  // Digits only: no sign, no hex, no exponent, no spaces, so what is used is what was typed.
  if (/^\d+$/.test(text) && Number(text) >= min && Number(text) <= max) return Number(text);
  const range = max === Number.MAX_SAFE_INTEGER ? `, at least ${min}` : ` from ${min} to ${max}`;
  throw new UsageError(`${flag} must be a whole number${unit}${range}, not ${quote(text)}`);
}

/** --allow-origin takes what browsers send in Origin: scheme://host[:port], nothing after it. */
function origin(text: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+\/?$/i.test(text)) return text;
  throw new UsageError(`--allow-origin takes an origin like http://localhost:3000 (scheme://host[:port], no path), not ${quote(text)}`);
}

/** --allow-host takes a name (or address) as it appears in the Host header, optionally with a port. */
function hostName(text: string): string {
  if (parseAuthority(text) !== undefined) return text;
  throw new UsageError(`--allow-host takes a host name like myhost.local (no scheme, no path), not ${quote(text)}`);
}

/** --reload-ignore takes a glob of root-relative paths; a malformed one is refused here, by name. */
function reloadGlob(text: string): string {
  try {
    globToRegExp(text);
    return text;
  } catch (error) {
    throw new UsageError(`--reload-ignore: ${(error as Error).message}`);
  }
}

export function parseArgs(argv: readonly string[]): CliConfig | 'help' | 'version' {
  const { values, positionals } = scan(argv);
  const one = (name: string): string | undefined => values.get(name)?.[0];
  if (values.has('help')) return 'help';
  if (values.has('version')) return 'version';
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one folder, got ${positionals.length}: ${positionals.map(quote).join(' ')}`);
  }
  const port = one('port');
  const size = one('max-message-size');
  const budget = one('capture-budget');
  const configFile = one('config');
  const inspectPort = one('inspect-port');
  if (inspectPort !== undefined && !values.has('inspect')) throw new UsageError('--inspect-port chooses the inspector\'s port: add --inspect to serve the inspector');
  return {
    options: {
      root: positionals[0] ?? process.cwd(),
      port: port === undefined ? DEFAULTS.port : wholeNumber('--port', port, 0, 65535),
      host: one('host') ?? DEFAULTS.host,
      allowLan: values.has('allow-lan'),
      wsPath: one('ws-path') ?? DEFAULTS.wsPath,
      // Relative to where the command runs, as a person typing it expects.
      configFile: configFile === undefined ? undefined : path.resolve(configFile),
      maxMessageSize: size === undefined ? DEFAULTS.maxMessageSize : wholeNumber('--max-message-size', size, 1, MAX_MESSAGE_SIZE, ' of bytes'),
      compression: values.has('compression'),
      dotfiles: values.has('dotfiles'),
      allowCrossSite: values.has('allow-cross-site'),
      allowedHosts: (values.get('allow-host') ?? []).map(hostName),
      // Only what the person names: no webview or other origin is ever added here.
      allowedOrigins: (values.get('allow-origin') ?? []).map(origin),
      advice: ADVICE,
      inspector: values.has('inspect')
        ? { token: newInspectorToken(), port: inspectPort === undefined ? undefined : wholeNumber('--inspect-port', inspectPort, 0, 65535) }
        : undefined,
      liveReload: values.has('no-reload') ? false : { ignore: (values.get('reload-ignore') ?? []).map(reloadGlob) },
      capture: budget === undefined ? undefined : { budgetBytes: wholeNumber('--capture-budget', budget, minBudgetBytes(), Number.MAX_SAFE_INTEGER, ' of bytes') },
    },
    open: values.has('open'),
    quiet: values.has('quiet'),
    wsPathGiven: values.has('ws-path'),
  };
}
