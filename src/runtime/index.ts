/**
 * The one seam between the proxy and its JavaScript runtime. Everything that spawns a
 * process, listens on a socket or touches the file system goes through here, so the same
 * source runs under Bun (the product) and Deno (checked by a smoke test).
 */
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import type { Runtime } from "./types.ts";

export { readChunks } from "./types.ts";
export type { ChildProcess, FileSnapshot, Runtime, ServeOptions, ServerHandle, SpawnOptions } from "./types.ts";

export const runtime: Runtime = (globalThis as { Deno?: unknown }).Deno ? denoRuntime() : bunRuntime();
