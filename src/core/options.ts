/**
 * startServer's options: what a front door may ask for (ServerOptions), their defaults, and the
 * one pass that checks them and resolves them (resolveOptions) into what the server is wired from.
 * Every bad option is a StartError with a message for the person, found before any port is taken.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Capture, type CaptureOptions } from './capture/capture';
import type { ConfigProblem } from './config/state';
import { isLoopbackHost, type GuardOptions, type RefusalAdvice } from './guard';
import type { ContentOverlay } from './http/static';
import { isInspectorToken, type InspectorOptions } from './inspector/server';
import { IgnoreRules } from './reload/ignore';
import { wsPathError, wsPathProblem } from './ws/paths';
import { DEFAULTS } from './defaults';

export interface ServerOptions {
  /** The folder to serve. */
  root: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. Anything but loopback needs `allowLan`. */
  host?: string;
  /** Explicit opt-in to listen on a non-loopback address (reachable from the network). */
  allowLan?: boolean;
  /**
   * Path of the WebSocket echo endpoint, written decoded (`/ws-ü`). Default `/websocket`. One
   * absolute path of letters (any script) and the ASCII a URL path holds as it is; no `;`, `,`,
   * quotes, white space, control characters, `?`, `#`, `%`, `\`, `.` or `..` segments (wsPath.ts).
   */
  wsPath?: string;
  /** Largest WebSocket message in bytes. Default 16 MiB. */
  maxMessageSize?: number;
  /** permessage-deflate for WebSocket messages. Default off. */
  compression?: boolean;
  /** Heartbeat interval in ms. Default 30 s. */
  heartbeatMs?: number;
  /** How long a proxy endpoint's upstream gets to answer its handshake before the client gets 504. Default 10 s. */
  upstreamTimeoutMs?: number;
  /** Serve dotfiles and dot-directories. Default off. */
  dotfiles?: boolean;
  /** Extra names accepted in the Host header. */
  allowedHosts?: readonly string[];
  /**
   * Extra origins accepted for WebSocket upgrades. No other origin is (not even a
   * `vscode-webview://` one: the editor adds its own panel's origin with allowOrigin).
   */
  allowedOrigins?: readonly string[];
  /** Let pages of other sites load files with `<script src>`, `<img>` and the like. Default off. */
  allowCrossSite?: boolean;
  /** How refusals tell the person to open each check up (the flag or setting of their front door). */
  advice?: RefusalAdvice;
  /** The capture's limits (CAPTURE_DEFAULTS in capture.ts: 32 MiB of frames, 4 KiB previews). */
  capture?: CaptureOptions;
  /**
   * Serve the inspector UI at `/__echo-preview/inspector/<token>/` and its feed socket at
   * `…/<token>/feed` (the CLI's `--inspect`) on a second port of its own on the same host (its
   * `port`: by default a new free one each run), where nothing else is served: no
   * page of the folder shares the inspector's origin. Off by default: no second port.
   */
  inspector?: InspectorOptions;
  /**
   * The config file with the endpoints and their reply modes (absolute, or relative to `root`).
   * Default `.echo-preview.json` in the root, if it is there; without one, `wsPath` is the echo.
   * It is watched and applied in place; it is never served.
   */
  configFile?: string;
  /** Let a proxy endpoint reach beyond loopback. Default true; the editor passes false in an untrusted workspace. */
  proxyBeyondLoopback?: boolean;
  /**
   * Live reload (default on): watch the folder, inject `<script src="/__echo-preview/reload.js">`
   * into HTML pages, and reload them (or swap their stylesheets) on a change. `ignore`: globs of
   * root-relative paths whose changes reload nothing (`.git`, `node_modules` and dotfiles never do).
   */
  liveReload?: boolean | { ignore?: readonly string[] };
  /** Bytes served instead of files' own (the editor's unsaved buffers); see RunningServer.changed. */
  overlay?: ContentOverlay;
}

/** The largest message size limit: ws keeps its limit as a 32-bit signed integer. */
export const MAX_MESSAGE_SIZE = 2 ** 31 - 1;

export type StartErrorCode =
  | 'ROOT_MISSING'
  | 'ROOT_NOT_DIRECTORY'
  | 'ROOT_UNREADABLE'
  | 'PORT_IN_USE'
  | 'PORT_FORBIDDEN'
  | 'HOST_NOT_LOOPBACK'
  | 'HOST_UNAVAILABLE'
  | 'INVALID_OPTION'
  | 'CONFIG_INVALID'
  | 'CONFIG_MISSING';

/** A start failure with a message written for the person who asked for the server. */
export class StartError extends Error {
  constructor(
    readonly code: StartErrorCode,
    message: string,
    /** With CONFIG_INVALID: where the config file is wrong; with CONFIG_MISSING: which file is not there. */
    readonly problem?: ConfigProblem,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

/** The options once checked, defaults filled in: what startServer wires the server from. */
export interface ResolvedOptions {
  /** The served folder after realpath. */
  readonly root: string;
  readonly port: number;
  readonly host: string;
  /** The echo's path when there is no config file. */
  readonly wsPath: string;
  readonly maxMessageSize: number;
  readonly compression: boolean;
  readonly heartbeatMs: number;
  readonly upstreamTimeoutMs: number;
  readonly dotfiles: boolean;
  readonly guard: GuardOptions;
  readonly capture: Capture;
  readonly inspector: InspectorOptions | undefined;
  /** As given: absolute, or relative to `root`; undefined for the default file. */
  readonly configFile: string | undefined;
  readonly proxyBeyondLoopback: boolean;
  /** Live reload is on. */
  readonly liveReload: boolean;
  /** The live reload ignore globs (and dotfiles) as rules, checked even with live reload off. */
  readonly ignoreRules: IgnoreRules;
  readonly overlay: ContentOverlay | undefined;
}

/** Checks every option (in the order a person would fix them) and fills in the defaults. */
export async function resolveOptions(options: ServerOptions): Promise<ResolvedOptions> {
  const port = options.port ?? DEFAULTS.port;
  const host = options.host ?? DEFAULTS.host;
  const wsPath = options.wsPath ?? DEFAULTS.wsPath;
  const maxMessageSize = options.maxMessageSize ?? DEFAULTS.maxMessageSize;
  validateOptions(port, host, wsPath, maxMessageSize, options.allowLan ?? false);
  if (options.inspector !== undefined && !isInspectorToken(options.inspector.token)) {
    throw new StartError('INVALID_OPTION', 'The inspector token must be at least 22 base64url characters (make one with newInspectorToken()).');
  }
  const inspectorPortIssue = inspectorPortProblem(options.inspector?.port, port);
  if (inspectorPortIssue !== undefined) throw new StartError('INVALID_OPTION', inspectorPortIssue);
  const capture = newCapture(options.capture);
  const root = await resolveRoot(options.root);
  const dotfiles = options.dotfiles ?? false;
  const reloadIgnore = typeof options.liveReload === 'object' ? (options.liveReload.ignore ?? []) : [];
  return {
    root,
    port,
    host,
    wsPath,
    maxMessageSize,
    compression: options.compression ?? false,
    heartbeatMs: options.heartbeatMs ?? DEFAULTS.heartbeatMs,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    dotfiles,
    guard: {
      host,
      allowedHosts: options.allowedHosts,
      allowedOrigins: options.allowedOrigins,
      allowCrossSite: options.allowCrossSite,
      advice: options.advice,
    },
    capture,
    inspector: options.inspector,
    configFile: options.configFile,
    proxyBeyondLoopback: options.proxyBeyondLoopback ?? true,
    liveReload: options.liveReload !== false,
    ignoreRules: newIgnoreRules(reloadIgnore, dotfiles),
    overlay: options.overlay,
  };
}

/** The ignore globs as rules, or a StartError naming the one that is malformed. */
function newIgnoreRules(globs: readonly string[], dotfiles: boolean): IgnoreRules {
  try {
    return new IgnoreRules(globs, dotfiles);
  } catch (error) {
    throw new StartError('INVALID_OPTION', `The live reload ignore pattern is malformed: ${(error as Error).message}.`);
  }
}

/** The capture, or a StartError naming what is wrong with its options. */
function newCapture(options: CaptureOptions | undefined): Capture {
  try {
    return new Capture(options);
  } catch (error) {
    throw new StartError('INVALID_OPTION', `The ${(error as Error).message}.`);
  }
}

function isPortNumber(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/** Why an explicit inspector port cannot be used with the server's `port`, or undefined when it can. */
function inspectorPortProblem(inspectorPort: number | undefined, port: number): string | undefined {
  if (inspectorPort === undefined) return undefined;
  if (!isPortNumber(inspectorPort)) return `The inspector's port must be a whole number from 0 to 65535, not ${String(inspectorPort)}.`;
  if (inspectorPort !== 0 && inspectorPort === port) {
    return `The inspector's port must differ from the server's port (${port}): the inspector needs an origin of its own, where no page of the folder is served.`;
  }
  return undefined;
}

function validateOptions(port: number, host: string, wsPath: string, maxMessageSize: number, allowLan: boolean): void {
  if (!isPortNumber(port)) {
    throw new StartError('INVALID_OPTION', `Port must be a whole number from 0 to 65535, not ${String(port)}.`);
  }
  const wsPathIssue = wsPathProblem(wsPath);
  if (wsPathIssue !== undefined) throw new StartError('INVALID_OPTION', wsPathError(wsPath, wsPathIssue));
  if (!Number.isInteger(maxMessageSize) || maxMessageSize < 1 || maxMessageSize > MAX_MESSAGE_SIZE) {
    throw new StartError(
      'INVALID_OPTION',
      `The maximum message size must be a whole number of bytes from 1 to ${MAX_MESSAGE_SIZE}, not ${String(maxMessageSize)}.`,
    );
  }
  if (!isLoopbackHost(host) && !allowLan) {
    throw new StartError(
      'HOST_NOT_LOOPBACK',
      `Host ${host} is not a loopback address: the folder would be reachable from other machines. ` +
        'Opt in explicitly to listen beyond this machine.',
    );
  }
}

async function resolveRoot(root: string): Promise<string> {
  const absolute = path.resolve(root);
  let real: string;
  try {
    real = await fs.realpath(absolute);
  } catch {
    throw new StartError('ROOT_MISSING', `Folder not found: ${absolute}`);
  }
  const stats = await fs.stat(real);
  if (!stats.isDirectory()) throw new StartError('ROOT_NOT_DIRECTORY', `Not a folder: ${absolute}`);
  try {
    await fs.access(real, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    throw new StartError('ROOT_UNREADABLE', `Folder cannot be read: ${absolute}`);
  }
  return real;
}

