/** A config file that no server reads (the editor's, after a start it stopped), followed alone through the one watcher module. */
import * as path from 'node:path';
import { ServerEvents, type Disposable } from '../events/events';
import { FolderWatcher } from '../reload/watcher';
import type { CheckEnvironment } from './check';
import { ConfigSource } from './source';
import type { ConfigProblem, ConfigState } from './state';

export interface FollowedConfig extends Disposable {
  /** Each new state of the file, read and checked as a server would at its start: a problem, or none (fixed or removed). */
  onConfig(listener: (state: ConfigState) => void): Disposable;
}

/**
 * Follows the file of `problem`, which stopped a start: its folder alone is watched (no tree),
 * and each change is read again as a server reads it (never blocking on a FIFO, within bounds).
 */
export function followConfig(problem: ConfigProblem, env: CheckEnvironment): FollowedConfig {
  const source = new ConfigSource(problem.file, [], env, new ServerEvents(), () => undefined);
  source.seed(problem);
  const watcher = new FolderWatcher(
    { root: path.dirname(problem.file), tree: false, files: [problem.file] },
    { file: () => source.fileChanged() },
  );
  return {
    onConfig: (listener) => source.onConfig(listener),
    dispose: () => {
      watcher.close();
      source.dispose();
    },
  };
}
