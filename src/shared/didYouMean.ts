/** "Did you mean": the names nearest to one mistyped, for every closed set of names (the CLI's flags, the config's modes, keys and values). */

export interface NearestOptions {
  /** Also take the names that start with what was typed (at least 3 characters), as the CLI does for `--allow`. */
  prefix?: boolean;
}

/**
 * The names `typed` most likely meant, ignoring case: those it starts (with `prefix`), else those
 * nearest by edit distance, within two edits and fewer than its own length (so `ab` never means
 * `to`); none when nothing is that near.
 */
export function nearestNames(typed: string, names: readonly string[], options: NearestOptions = {}): string[] {
  const lower = typed.toLowerCase();
  if (options.prefix === true && lower.length >= 3) {
    const starting = names.filter((name) => name.toLowerCase().startsWith(lower));
    if (starting.length > 0) return starting;
  }
  const distances = names.map((name) => editDistance(lower, name.toLowerCase()));
  const best = Math.min(...distances);
  if (!(best <= MAX_EDITS && best < lower.length)) return [];
  return names.filter((_, i) => distances[i] === best);
}

/**
 * `; did you mean "broadcast"?` (each name shown by `show`, JSON-quoted by default), or `''`
 * when no name is near: appended to the message that refuses `typed`.
 */
export function didYouMean(typed: string, names: readonly string[], show: (name: string) => string = (name) => JSON.stringify(name), options: NearestOptions = {}): string {
  const near = nearestNames(typed, names, options);
  return near.length === 0 ? '' : `; did you mean ${near.map(show).join(' or ')}?`;
}

const MAX_EDITS = 2;

/** Levenshtein distance; beyond MAX_EDITS it only says so (a long typed text costs no more than its length). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_EDITS) return MAX_EDITS + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
