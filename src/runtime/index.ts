/**
 * The one seam between the proxy and its JavaScript runtime: everything whose API differs
 * between Bun (the product) and Deno (checked by a contract test) goes through here —
 * spawning processes, serving HTTP, peer addresses, the environment, async file writes and
 * file modes. What both runtimes implement alike is used directly: the synchronous `node:fs`
 * calls made at startup, `node:path`, and the `process` global (`cwd()`, the exit hook).
 */
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import type { Runtime } from "./types.ts";

export { readChunks } from "./types.ts";
export type { ChildProcess, FileSnapshot, Runtime, ServeOptions, ServerHandle, SpawnOptions } from "./types.ts";

export const runtime: Runtime = (globalThis as { Deno?: unknown }).Deno ? denoRuntime() : bunRuntime();
