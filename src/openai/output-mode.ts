/**
 * Which output conventions a chat request gets. `openai-json` (default) is plain OpenAI;
 * `obsidian-xml` adds the seed's `<use_tool>` block controls for clients that parse tool
 * blocks out of the text. The deployment chooses (PROXY_OUTPUT_MODE); the
 * `x-proxy-output-mode` request header may override it. Also the `x-codex-*` headers and
 * the SSE comment that report tool calls, as the seed named them.
 */
import { invalidRequest } from "./errors.ts";

export type OutputMode = "openai-json" | "obsidian-xml";

export const OUTPUT_MODE_HEADER = "x-proxy-output-mode";
const MODES: readonly OutputMode[] = ["openai-json", "obsidian-xml"];

export function resolveOutputMode(header: string | null, fallback: OutputMode): OutputMode {
  const value = header?.trim().toLowerCase();
  if (!value) return fallback;
  if (!MODES.includes(value as OutputMode)) {
    throw invalidRequest(`Invalid ${OUTPUT_MODE_HEADER} header ${JSON.stringify(header)}: use 'openai-json' or 'obsidian-xml'.`, null);
  }
  return value as OutputMode;
}

export interface ToolCallReport {
  /** Tool calls plus `<use_tool>` blocks that reached the client, over all choices. */
  count: number;
  /** Some calls or blocks the model made were dropped (parallel_tool_calls:false, PROXY_TOOL_BLOCK_MAX). */
  truncated: boolean;
}

/** Headers known before the first byte: the mode, and the stop-after-tools mode when blocks are watched. */
export function outputModeHeaders(mode: OutputMode, stopMode: string): Record<string, string> {
  return mode === "obsidian-xml"
    ? { [OUTPUT_MODE_HEADER]: mode, "x-codex-stop-after-tools-mode": stopMode }
    : { [OUTPUT_MODE_HEADER]: mode };
}

/** Non-streamed answers also report the count and truncation. */
export function toolCallHeaders(report: ToolCallReport): Record<string, string> {
  return { "x-codex-tool-call-count": String(report.count), "x-codex-tool-call-truncated": String(report.truncated) };
}

/** The seed's SSE comment before a choice's finish chunk in tool-block mode. */
export function toolBlockComment(index: number, report: ToolCallReport, stopMode: string): string {
  return JSON.stringify({ index, tool_call_count: report.count, tool_call_truncated: report.truncated, stop_after_tools_mode: stopMode });
}
