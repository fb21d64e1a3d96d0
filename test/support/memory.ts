/** Memory held by this process after a full garbage collection, for tests that bound what the server keeps. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** V8's gc(), reachable once --expose-gc is set (a fresh context sees the new global). */
const gc = runInNewContext('gc') as () => void;

/** JS heap plus Buffer/ArrayBuffer memory, in bytes, with garbage collected first. */
export function liveBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
