/**
 * How a worker is started: the binary, the isolation settings imposed on every worker with
 * `-c` (the model provider and auth stay in CODEX_HOME/config.toml), a neutral working
 * directory, and the static model catalogue that exposes client tools as plain functions.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CodexModelInfo } from "../config/models.ts";
import { runtime } from "../runtime/index.ts";

/** Settings that keep Codex from touching anything but the model provider (see SECURITY.md). */
const ISOLATION_SETTINGS: readonly string[] = [
  "analytics.enabled=false",
  "features.plugins=false",
  "features.shell_tool=false",
  "features.unified_exec=false",
  "features.apps=false",
  "features.view_image=false",
  "features.goals=false",
  "features.image_generation=false",
  "features.shell_snapshot=false",
  "features.tool_suggest=false",
  "agents.enabled=false",
  "skills.bundled.enabled=false",
  'web_search="disabled"',
  "include_permissions_instructions=false",
  "include_environment_context=false",
  "include_apps_instructions=false",
  "include_collaboration_mode_instructions=false",
  "project_doc_max_bytes=0",
  "check_for_update_on_startup=false",
  'approval_policy="never"',
  "thread_unload_delay_secs=1",
];

export interface LaunchOptions {
  bin: string;
  home: string;
  sandboxMode: string;
  forceProvider: string | null;
  catalogPath: string | null;
}

export function workerCommand(options: LaunchOptions): string[] {
  const settings = [...ISOLATION_SETTINGS, `sandbox_mode="${options.sandboxMode}"`];
  if (options.forceProvider) settings.push(`model_provider=${JSON.stringify(options.forceProvider)}`);
  if (options.catalogPath) settings.push(`model_catalog_json=${JSON.stringify(options.catalogPath)}`);
  return [options.bin, "app-server", ...settings.flatMap((s) => ["-c", s])];
}

/** The environment a worker sees: ours, minus proxy secrets, with its own CODEX_HOME. */
export function workerEnv(base: Record<string, string>, home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (key === "PROXY_API_KEY" || key.startsWith("PROXY_METRICS_TOKEN")) continue;
    env[key] = value;
  }
  env.CODEX_HOME = home;
  return env;
}

/** An empty directory Codex may treat as its workspace, so no project files leak in. */
export function prepareWorkspace(home: string): string {
  const dir = join(home, "workspace");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** True for a regular file; any path that cannot be one (missing, or under a file: ENOTDIR) is false. */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Default binary when CODEX_BIN is unset: a Codex installed beside the running executable
 * (`<dir>/codex/bin/codex` — the layout of the container image and of scripts/install.sh,
 * which is what a compiled binary finds), else the native Codex of the pinned npm package
 * in a node_modules above one of `searchFrom`, else `codex` on the PATH.
 */
export function defaultCodexBin(executable: string, searchFrom: string[]): string {
  const beside = dirname(executable);
  for (const candidate of [join(beside, "codex", "bin", "codex"), join(beside, "codex")]) {
    if (isFile(candidate)) return candidate;
  }
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const triple = process.arch === "arm64" ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl";
  const relative = join("node_modules", "@openai", `codex-linux-${arch}`, "vendor", triple, "bin", "codex");
  for (const start of [...searchFrom, beside]) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, relative);
      if (isFile(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return "codex";
}

/**
 * Writes CODEX_HOME/proxy-model-catalog.json from the pinned Codex's bundled catalogue with
 * code mode and apply_patch switched off, so dynamic tools reach every model as plain
 * functions and the model is never offered a file-editing tool. Creates CODEX_HOME first: on
 * a first start (before `codex login`) it may not exist yet, and the workers would then run
 * for the process's lifetime on the bundled catalogue, apply_patch included. Throws with
 * Codex's own words when the catalogue cannot be had.
 */
export async function writeModelCatalog(
  bin: string, home: string, env: Record<string, string>, timeoutMs: number,
): Promise<{ path: string; models: CodexModelInfo[] }> {
  prepareWorkspace(home);
  const child = runtime.spawn([bin, "debug", "models", "--bundled"], { env: workerEnv(env, home), cwd: home });
  child.closeStdin();
  // A hung binary must not hold up the server's start: it is killed, and the server starts
  // without the catalogue. The wait ends at the limit even when a process the binary started
  // (a wrapper script's child) still holds its output open; only the binary itself is killed.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`codex debug models did not finish within ${timeoutMs} ms (WORKER_STARTUP_TIMEOUT_MS)`));
    }, timeoutMs);
  });
  const finished = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  finished.catch(() => {});
  const [text, errors, code] = await Promise.race([finished, expired]).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`codex debug models exited with ${code}: ${errors.trim().slice(-500)}`);
  const catalog = JSON.parse(text) as { models: Record<string, unknown>[] };
  for (const model of catalog.models) {
    model.tool_mode = null;
    model.apply_patch_tool_type = null;
    model.experimental_supported_tools = [];
    model.multi_agent_version = null;
  }
  const path = join(home, "proxy-model-catalog.json");
  writeFileSync(path, JSON.stringify(catalog));
  const models = catalog.models
    .filter((m) => m.visibility === "list" && typeof m.slug === "string")
    .map((m) => ({ slug: m.slug as string, contextWindow: typeof m.context_window === "number" ? m.context_window : null }));
  return { path, models };
}
