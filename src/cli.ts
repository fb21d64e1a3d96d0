/**
 * The command-line front door: arguments -> startServer(), one ready line with the URL, one line
 * per request / connection / message unless --quiet, and a clean stop on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { DEFAULTS, StartError, startServer, type RunningServer, type ServerOptions } from './core/server';
import { formatEvent } from './core/format';
import { isLoopbackHost } from './core/guard';

declare const PACKAGE_VERSION: string;

const USAGE = `Usage: echo-preview [folder] [options]

Serves a folder over HTTP with a WebSocket echo endpoint.

Arguments:
  folder                   folder to serve (default: the current folder)

Options:
  -p, --port <n>           port to listen on, 0 for any free port (default: ${DEFAULTS.port})
  -H, --host <address>     address to bind (default: ${DEFAULTS.host})
      --allow-lan          allow a non-loopback --host (the folder becomes reachable from the network)
      --ws-path <path>     path of the WebSocket echo endpoint (default: ${DEFAULTS.wsPath})
      --max-message-size <bytes>
                           largest WebSocket message, in bytes (default: ${DEFAULTS.maxMessageSize})
      --compression        enable permessage-deflate (off by default: it slows echo down)
      --allow-host <name>  also accept this name in the Host header (repeatable)
      --allow-origin <origin>
                           also accept WebSocket connections from this origin (repeatable)
      --dotfiles           serve dotfiles and dot-directories (hidden by default)
  -o, --open               open the page in the default browser
  -q, --quiet              print only the ready line and errors
  -h, --help               show this help
  -v, --version            show the version
`;

class UsageError extends Error {}

interface CliConfig {
  options: ServerOptions;
  open: boolean;
  quiet: boolean;
}

function parse(argv: string[]): CliConfig | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string', short: 'H' },
        'allow-lan': { type: 'boolean' },
        'ws-path': { type: 'string' },
        'max-message-size': { type: 'string' },
        compression: { type: 'boolean' },
        'allow-host': { type: 'string', multiple: true },
        'allow-origin': { type: 'string', multiple: true },
        dotfiles: { type: 'boolean' },
        open: { type: 'boolean', short: 'o' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--bogus'"; keep its words, drop its advice.
    throw new UsageError((error as Error).message.split('. ')[0].replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (positionals.length > 1) throw new UsageError(`expected at most one folder, got ${positionals.length}: ${positionals.join(' ')}`);
  return {
    options: {
      root: positionals[0] ?? process.cwd(),
      port: values.port === undefined ? DEFAULTS.port : parseInteger('--port', values.port, 0, 65535),
      host: values.host ?? DEFAULTS.host,
      allowLan: values['allow-lan'] ?? false,
      wsPath: values['ws-path'] ?? DEFAULTS.wsPath,
      maxMessageSize:
        values['max-message-size'] === undefined
          ? DEFAULTS.maxMessageSize
          : parseInteger('--max-message-size', values['max-message-size'], 1, Number.MAX_SAFE_INTEGER),
      compression: values.compression ?? false,
      dotfiles: values.dotfiles ?? false,
      allowedHosts: values['allow-host'] ?? [],
      allowedOrigins: values['allow-origin'] ?? [],
    },
    open: values.open ?? false,
    quiet: values.quiet ?? false,
  };
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return Number(text);
}

function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`echo-preview: could not open a browser; open ${url} yourself\n`));
  child.unref();
}

function stopOnSignals(server: RunningServer, quiet: boolean): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1); // a second signal: the person wants out now
    stopping = true;
    if (!quiet) process.stdout.write(`${signal}: closing connections\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(argv: string[]): Promise<number> {
  let config: ReturnType<typeof parse>;
  try {
    config = parse(argv);
  } catch (error) {
    process.stderr.write(`echo-preview: ${(error as Error).message} (see --help)\n`);
    return 1;
  }
  if (config === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (config === 'version') {
    process.stdout.write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  let server: RunningServer;
  try {
    server = await startServer(config.options);
  } catch (error) {
    process.stderr.write(`echo-preview: ${describeStartError(error)}\n`);
    return 1;
  }
  process.stdout.write(`Echo Preview: serving ${server.root} at ${server.url} (WebSocket echo: ${server.wsUrl})\n`);
  if (!isLoopbackHost(server.host)) {
    process.stderr.write(`echo-preview: warning: listening on ${server.host}; other machines on the network can read this folder\n`);
  }
  if (!config.quiet) {
    server.events.on((event) => {
      // Every echo is one message: log what came in, not its copy going out.
      if (event.type === 'frame' && event.direction === 'out') return;
      process.stdout.write(formatEvent(event) + '\n');
    });
  }
  stopOnSignals(server, config.quiet);
  if (config.open) openInBrowser(server.url);
  return -1; // keep running
}

function describeStartError(error: unknown): string {
  if (!(error instanceof StartError)) return `could not start: ${String(error)}`;
  switch (error.code) {
    case 'PORT_IN_USE':
      return `${error.message} Try --port 0 for any free port, or another --port.`;
    case 'HOST_NOT_LOOPBACK':
      return `${error.message.replace('Opt in explicitly', 'Add --allow-lan')}`;
    default:
      return error.message;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`echo-preview: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
