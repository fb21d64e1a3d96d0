/** Waiting for what no event tells: a condition polled with a deadline. */

/**
 * Polls `settled` every 20 ms until it says true; fails after `timeoutMs`. For what no event
 * tells. `what` may be a function, so a "(now …)" in the message says how things were at the
 * deadline, not when the wait began.
 */
export async function pollUntil(settled: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!settled()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
