/** A throw-away CODEX_HOME whose config.toml points Codex at the fake model server. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CodexHome {
  path: string;
  remove(): void;
}

export function createCodexHome(modelServerUrl: string, options: { streamIdleTimeoutMs?: number; streamMaxRetries?: number } = {}): CodexHome {
  const path = mkdtempSync(join(tmpdir(), "cca-codex-home-"));
  writeFileSync(
    join(path, "config.toml"),
    `model_provider = "fake"

[model_providers.fake]
name = "Fake"
base_url = "${modelServerUrl}"
wire_api = "responses"
env_key = "FAKE_API_KEY"
request_max_retries = 0
stream_max_retries = ${options.streamMaxRetries ?? 0}
stream_idle_timeout_ms = ${options.streamIdleTimeoutMs ?? 20000}
`,
  );
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
