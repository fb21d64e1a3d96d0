/** The config as the rest of the product sees it: its file name, the state in force, a refused edit's problem, and how each reads. */
import type { EndpointMode } from '../endpoints/types';

export const CONFIG_FILE_NAME = '.echo-preview.json';

/**
 * A refused config: where (1-based line and column) and what is wrong. A problem of the file as a
 * whole (missing, unreadable) has no position: neither line nor column.
 */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export interface ConfigState {
  /** The config file in force (absolute); undefined when there is none. */
  file: string | undefined;
  endpoints: readonly { path: string; mode: EndpointMode }[];
  /** The last edit was refused; the last good config applies. */
  problem: ConfigProblem | undefined;
}

/** `file:line:col: message`, as the CLI and StartError show a problem; `file: message` for one without a position. */
export function formatProblem(problem: ConfigProblem): string {
  if (problem.line === undefined) return `${problem.file}: ${problem.message}`;
  return `${problem.file}:${problem.line}:${problem.column ?? 1}: ${problem.message}`;
}

/**
 * One line for a config state: `config applied: 2 endpoints (/chat broadcast, /websocket echo)`, or
 * the problem with `(keeping the last good config)`.
 */
export function describeConfig(state: ConfigState): string {
  if (state.problem !== undefined) return `${formatProblem(state.problem)} (keeping the last good config)`;
  const count = `${state.endpoints.length} ${state.endpoints.length === 1 ? 'endpoint' : 'endpoints'}`;
  const list = state.endpoints.map((e) => `${e.path} ${e.mode}`).join(', ');
  return state.file === undefined ? `no config file: ${count} (${list})` : `config applied: ${count} (${list})`;
}
