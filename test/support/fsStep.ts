/**
 * A race made deterministic: runs an action (a save) at one chosen step of the server's work on
 * a file, by wrapping the fs call of that step. The server runs in the test's own process, so its
 * fs calls are this module's: the calls stay real, only the moment of the save is chosen.
 */
// The module object itself (`import * as` would give a copy made of getters, which cannot be replaced).
import fs from 'node:fs';

/** The fs calls a request for a file makes, in order: resolve.ts checks and opens, static.ts reads. */
export type FsStep = 'realpath' | 'lstat' | 'open' | 'fstat' | 'readlink' | 'read';

export interface FsPoint {
  step: FsStep;
  /** Right before the call, or once it completed and before its caller sees the result. */
  when: 'before' | 'after';
  /** Which call of that step on the file (1-based, counting only those `match` accepts). Default 1. */
  nth?: number;
  /** For reads: which ones count, by the position and length asked for. */
  match?: (position: number, length: number) => boolean;
}

const CALLBACK_STEPS = ['open', 'fstat', 'read', 'close'] as const;
const PROMISE_STEPS = ['realpath', 'lstat', 'readlink'] as const;
type Callback = (error: NodeJS.ErrnoException | null, ...results: unknown[]) => void;
type Wrapped = (...args: unknown[]) => unknown;

/**
 * Runs `action` once, synchronously, at `point` of the work on `file`: calls by path for realpath,
 * lstat and open, by a descriptor opened on it for fstat and read, and `/proc/self/fd/N` for
 * readlink. `fired()` says whether it ran; `restore()` puts fs back (call it in a finally).
 */
export function atFsStep(file: string, point: FsPoint, action: () => void): { fired(): boolean; restore(): void } {
  const fds = new Set<number>();
  const counts = new Map<FsStep, number>();
  let fired = false;
  const onFile = (step: FsStep | 'close', args: unknown[]): boolean => {
    if (step === 'realpath' || step === 'lstat' || step === 'open') return args[0] === file;
    if (step === 'readlink') return typeof args[0] === 'string' && fds.has(Number(/^\/proc\/self\/fd\/(\d+)$/.exec(args[0])?.[1]));
    if (!fds.has(args[0] as number)) return false;
    return step !== 'read' || point.match === undefined || point.match(args[4] as number, args[3] as number);
  };
  /** True when this call, of a step on the file, is the chosen one. */
  const chosen = (step: FsStep | 'close', args: unknown[]): boolean => {
    if (step === 'close' || !onFile(step, args)) return false;
    const n = (counts.get(step) ?? 0) + 1;
    counts.set(step, n);
    return !fired && step === point.step && n === (point.nth ?? 1);
  };
  const run = (): void => {
    fired = true;
    action();
  };

  // The fs module's own functions are replaced (its properties are writable). The compiled server
  // looks each one up at call time (`fs.read(…)`, `(0, node_fs_1.open)(…)`), so it gets these.
  const target = fs as unknown as Record<string, Wrapped>;
  const promises = fs.promises as unknown as Record<string, Wrapped>;
  const saved = new Map<string, Wrapped>();
  for (const step of CALLBACK_STEPS) {
    const original = target[step];
    saved.set(step, original);
    target[step] = (...args: unknown[]): unknown => {
      const here = chosen(step, args);
      if (step === 'close') fds.delete(args[0] as number);
      if (here && point.when === 'before') run();
      const callback = args[args.length - 1];
      if (typeof callback !== 'function') return original.apply(fs, args);
      args[args.length - 1] = (error: NodeJS.ErrnoException | null, ...results: unknown[]): void => {
        if (step === 'open' && error === null && args[0] === file) fds.add(results[0] as number);
        if (here && point.when === 'after') run();
        (callback as Callback)(error, ...results);
      };
      return original.apply(fs, args);
    };
  }
  for (const step of PROMISE_STEPS) {
    const original = promises[step];
    saved.set(`promises.${step}`, original);
    promises[step] = async (...args: unknown[]): Promise<unknown> => {
      const here = chosen(step, args);
      if (here && point.when === 'before') run();
      const result = await original.apply(fs.promises, args);
      if (here && point.when === 'after') run();
      return result;
    };
  }
  return {
    fired: () => fired,
    restore: () => {
      for (const [name, original] of saved) {
        if (name.startsWith('promises.')) promises[name.slice('promises.'.length)] = original;
        else target[name] = original;
      }
    },
  };
}
