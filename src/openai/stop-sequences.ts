/**
 * `stop` sequences applied to Codex's output (Codex has no such parameter): text is cut
 * before the first occurrence of any sequence. Streamed text is held back only while its
 * tail could still be the start of a sequence, so a sequence split across deltas is caught.
 */
import { invalidRequest } from "./errors.ts";

/** OpenAI's own limit on `stop`. */
const MAX_STOP_SEQUENCES = 4;

/** The request's `stop` field (chat and legacy completions): a string or up to 4 strings. */
export function stopSequences(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length > MAX_STOP_SEQUENCES || !list.every((s) => typeof s === "string")) {
    throw invalidRequest(`'stop' must be a string or an array of up to ${MAX_STOP_SEQUENCES} strings.`, "stop");
  }
  return list.filter((s) => s.length > 0);
}

export class StopSequenceCutter {
  readonly #stops: readonly string[];
  #pending = "";
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  /** True once a stop sequence was seen: everything after it is dropped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Feeds a delta; returns the text that is now safe to emit. */
  push(delta: string): string {
    if (this.#stopped) return "";
    if (this.#stops.length === 0) return delta;
    const text = this.#pending + delta;
    let hit = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at !== -1 && (hit === -1 || at < hit)) hit = at;
    }
    if (hit !== -1) {
      this.#stopped = true;
      this.#pending = "";
      return text.slice(0, hit);
    }
    const keep = this.#partialTail(text);
    this.#pending = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** The end of the output: releases what was held back. */
  flush(): string {
    const rest = this.#stopped ? "" : this.#pending;
    this.#pending = "";
    return rest;
  }

  /** Length of the longest tail of `text` that begins some stop sequence. */
  #partialTail(text: string): number {
    for (let k = Math.min(text.length, this.#longest() - 1); k > 0; k--) {
      const tail = text.slice(text.length - k);
      if (this.#stops.some((s) => s.startsWith(tail))) return k;
    }
    return 0;
  }

  #longest(): number {
    return Math.max(...this.#stops.map((s) => s.length));
  }
}

/** Applies the stop sequences to a whole text at once. */
export function cutAtStop(text: string, stops: readonly string[]): string {
  const cutter = new StopSequenceCutter(stops);
  return cutter.push(text) + cutter.flush();
}
