/**
 * The Responses items a conversation's earlier turns are replayed as (`thread/inject_items`),
 * built alike from Chat Completions messages and Responses API input.
 */
import type { HistoryItem, MessagePhase, TurnInput } from "../codex/types.ts";

export const userHistoryItem = (parts: TurnInput[]): HistoryItem => ({
  type: "message",
  role: "user",
  content: parts.map((p) => (p.type === "text" ? { type: "input_text", text: p.text } : { type: "input_image", image_url: p.url })),
});

export const assistantHistoryItem = (text: string, phase?: MessagePhase): HistoryItem => ({
  type: "message", role: "assistant", ...(phase ? { phase } : {}), content: [{ type: "output_text", text }],
});
