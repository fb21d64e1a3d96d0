/**
 * The command-line front door: arguments -> startServer(), one ready line with the URL (and the
 * inspector's, with --inspect), then what happens (requests, connections, messages; summed up
 * when heavy, see core/summary) unless --quiet, and a clean stop on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { StartError, startServer, type RunningServer } from '../core/server';
import { formatProblem, type ConfigState } from '../core/config/state';
import { escapeControls } from '../shared/text';
import { isLoopbackHost } from '../core/guard';
import { INSTALLED_ASSETS } from '../core/inspector/server';
import { EventSummary } from '../core/events/summary';
import { LineWriter } from './output';
import { USAGE, parseArgs, type CliConfig } from './args';
import { savedStore, stateDir } from './savedStore';

declare const PACKAGE_VERSION: string;

/** How long the last lines may take to reach a reader at exit before we exit anyway. */
const EXIT_FLUSH_MS = 1000;

/** Errors go to stderr, one line each; what they quote may have come from anywhere. */
function fail(message: string): void {
  process.stderr.write(`echo-preview: ${escapeControls(message)}\n`);
}

function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => fail(`could not open a browser; open ${url} yourself`));
  child.unref();
}

function stopOnSignals(server: RunningServer, out: LineWriter, summary: EventSummary | undefined): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1); // a second signal: the person wants out now
    stopping = true;
    if (summary !== undefined) out.line(`${signal}: closing connections`);
    const exit = (code: number): void => {
      summary?.flush();
      void out.settle(EXIT_FLUSH_MS).then(() => process.exit(code));
    };
    server.close().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(argv: string[]): Promise<number> {
  let config: CliConfig | 'help' | 'version';
  try {
    config = parseArgs(argv);
  } catch (error) {
    fail(`${(error as Error).message} (see --help)`);
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
    const { inspector } = config.options;
    const saved = inspector && savedStore(stateDir(), realFolder(config.options.root), (line) => fail(`warning: ${line}`));
    server = await startServer(inspector ? { ...config.options, inspector: { ...inspector, version: PACKAGE_VERSION, saved } } : config.options);
  } catch (error) {
    fail(describeStartError(error, config.options.configFile !== undefined));
    return 1;
  }
  const out = new LineWriter(process.stdout);
  const inspector = server.inspectorUrl === undefined ? '' : ` (inspector: ${server.inspectorUrl})`;
  const { file } = server.config;
  if (file === undefined) {
    out.line(escapeControls(`Echo Preview: serving ${server.root} at ${server.url} (WebSocket echo: ${server.wsUrl})${inspector}`));
  } else {
    out.line(escapeControls(`Echo Preview: serving ${server.root} at ${server.url} (config: ${file})${inspector}`));
    printEndpoints(out, server, server.config);
  }
  if (config.wsPathGiven && file !== undefined) fail(`warning: --ws-path is ignored: ${file} defines the endpoints`);
  if (!isLoopbackHost(server.host)) {
    fail(`warning: listening on ${server.host}; other machines on the network can read this folder`);
  }
  if (server.liveReload?.problem !== undefined) fail(`warning: ${server.liveReload.problem}`);
  if (server.inspectorUrl !== undefined && !existsSync(INSTALLED_ASSETS.script)) {
    fail(`warning: the inspector UI is not built (no ${INSTALLED_ASSETS.script}): run npm run build; until then its page answers 503`);
  }
  const summary = config.quiet ? undefined : new EventSummary((line) => out.line(line));
  if (summary !== undefined) {
    server.events.on((event) => {
      // Every echo is one message: log what came in, not its copy going out.
      if (event.type === 'frame' && event.direction === 'out') return;
      if (event.type === 'config') return; // onConfig below
      summary.add(event);
    });
  }
  server.onConfig((state) => {
    if (state.problem !== undefined) return fail(`${formatProblem(state.problem)} (keeping the last good config)`);
    if (config.quiet) return;
    const count = `${state.endpoints.length} ${state.endpoints.length === 1 ? 'endpoint' : 'endpoints'}`;
    out.line(state.file === undefined ? `config removed: no config file, ${count}` : `config applied: ${count}`);
    printEndpoints(out, server, state);
  });
  stopOnSignals(server, out, summary);
  if (config.open) openInBrowser(server.url);
  return -1; // keep running
}

/** The served folder as its saved messages are filed: its real path (the one the server serves), else as given. */
function realFolder(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return path.resolve(root); // the start says what is wrong with it
  }
}

/** One line per endpoint, as under the ready line: `  ws://127.0.0.1:8080/chat  (broadcast)`. */
function printEndpoints(out: LineWriter, server: RunningServer, state: ConfigState): void {
  for (const { path, mode } of state.endpoints) out.line(escapeControls(`  ${server.wsOrigin}${path}  (${mode})`));
}

/** Which flag an invalid option came from, by what the core's message is about. */
const OPTION_FLAGS: Array<[RegExp, string]> = [
  [/inspector's port/i, '--inspect-port'],
  [/websocket path/i, '--ws-path'],
  [/message size/i, '--max-message-size'],
  [/capture budget/i, '--capture-budget'],
  [/origin/i, '--allow-origin'],
  [/port/i, '--port'],
  [/host/i, '--host'],
];

/** A start failure as one line; `configGiven`: --config named the config file (a problem of that file as a whole names the flag). */
function describeStartError(error: unknown, configGiven: boolean): string {
  if (!(error instanceof StartError)) return `could not start: ${String(error)}`;
  switch (error.code) {
    case 'PORT_IN_USE':
      if (/inspector's port/i.test(error.message)) return `${error.message} Try another --inspect-port, or leave it out (a new free port each run).`;
      return `${error.message} Try --port 0 for any free port, or another --port.`;
    case 'PORT_FORBIDDEN':
      if (/inspector's port/i.test(error.message)) return `${error.message} Try an --inspect-port above 1023, or leave it out.`;
      return `${error.message} Try --port 0 for any free port, or a --port above 1023.`;
    case 'HOST_NOT_LOOPBACK':
      return error.message.replace('Opt in explicitly', 'Add --allow-lan');
    case 'HOST_UNAVAILABLE':
      return `${error.message} Check --host.`;
    case 'INVALID_OPTION': {
      const flag = OPTION_FLAGS.find(([about]) => about.test(error.message))?.[1];
      return flag === undefined ? error.message : `${flag}: ${error.message}`;
    }
    case 'CONFIG_MISSING':
      return `--config: ${error.message}`;
    case 'CONFIG_INVALID':
      // No position: the file as a whole (unreadable, not a file), which --config chose.
      return configGiven && error.problem?.line === undefined ? `--config: ${error.message}` : error.message;
    default:
      return error.message;
  }
}

// What `npm start` asks before it runs this file (scripts/start.mjs loads it without running it).
export { namesFolder } from './args';

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (error: unknown) => {
      fail(String(error));
      process.exitCode = 1;
    },
  );
}
