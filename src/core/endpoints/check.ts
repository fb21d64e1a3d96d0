/** Small helpers for a mode's `check` (types.ts SectionCheck): unknown keys and typed optional fields. */
import { didYouMean } from '../../shared/didYouMean';
import type { JsonObject, JsonValue, SectionCheck } from './types';

/** The JSON type of a value in the words an error uses. */
export function jsonTypeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * `unknown property "includeSendr" for mode "broadcast" (allowed: "mode", "includeSender"); did you
 * mean "includeSender"?`: every unknown key of the config is worded here. A key the object
 * already has (`present`) is never offered: renaming to it would repeat it.
 */
export function unknownProperty(key: string, allowed: readonly string[], where: string, present: readonly string[]): string {
  const free = allowed.filter((name) => !present.includes(name));
  return `unknown property ${JSON.stringify(key)} ${where} (allowed: ${allowed.map((k) => JSON.stringify(k)).join(', ')})${didYouMean(key, free)}`;
}

/**
 * `, not "brodcast"; did you mean "broadcast"?`: what a closed set's refusal adds about the value
 * that was written (a string is matched against the names; anything else is named by its type).
 */
export function notOneOf(value: JsonValue, names: readonly string[]): string {
  return typeof value === 'string' ? `, not ${JSON.stringify(value)}${didYouMean(value, names)}` : `, not ${jsonTypeOf(value)}`;
}

/**
 * Reports the first key of `section` that is not in `allowed` (at the key), with `where` saying
 * whose it is (`for mode "echo"`); false when there was one.
 */
export function onlyKeys(section: JsonObject, allowed: readonly string[], check: SectionCheck, where: string): boolean {
  for (const key of Object.keys(section)) {
    if (!allowed.includes(key)) {
      check.problem([key], unknownProperty(key, allowed, where, Object.keys(section)), 'key');
      return false;
    }
  }
  return true;
}

/** The boolean at `section[key]`, `fallback` when absent, undefined (reported) when it is not a boolean. */
export function optionalBoolean(section: JsonObject, key: string, fallback: boolean, check: SectionCheck): boolean | undefined {
  const value = section[key];
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  check.problem([key], `"${key}" must be true or false, not ${jsonTypeOf(value)}`);
  return undefined;
}
