#!/usr/bin/env node
// Installs the locked dependencies (Bun included, from the npm registry) when node_modules
// is missing or older than package-lock.json, so `npm start` / `npm test` work on a fresh
// clone with nothing but Node.js and npm.
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lock = readFileSync(join(root, "package-lock.json"));
const want = createHash("sha256").update(lock).digest("hex");
const stampPath = join(root, "node_modules", ".codex-completions-api.lock-sha256");
const have = existsSync(stampPath) ? readFileSync(stampPath, "utf8").trim() : "";

if (have !== want || !existsSync(join(root, "node_modules", ".bin", "bun"))) {
  console.error("[ensure-deps] installing locked dependencies (npm ci)…");
  execSync("npm ci --no-audit --no-fund --loglevel=error", { cwd: root, stdio: "inherit" });
  writeFileSync(stampPath, want + "\n");
}
