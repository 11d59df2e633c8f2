/**
 * Codex's notifications for one turn → the turn's events: message phases, and the retry of a
 * model response that broke off, reported only when some of it was already handed on.
 */
import { describe, expect, test } from "bun:test";
import { ActiveTurn } from "../../src/codex/active-turn.ts";
import type { TurnEvent, TurnRequest } from "../../src/codex/types.ts";

const request: TurnRequest = {
  model: "gpt-5.5", effort: null, summary: "none", instructions: "", history: [], input: [], tools: [], outputSchema: null, inputParam: "messages",
};
const total = (totalTokens: number) => ({ tokenUsage: { total: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningOutputTokens: 0, totalTokens } } });
const delta = (delta: string, itemId = "m1") => ["item/agentMessage/delta", { itemId, delta }] as const;
const retry = ["error", { willRetry: true, error: { message: "Reconnecting... 1/1" } }] as const;

/** The event types a sequence of notifications produces, the turn completed at the end. */
async function eventsOf(notifications: ReadonlyArray<readonly [string, any]>): Promise<TurnEvent[]> {
  const turn = new ActiveTurn(request);
  for (const [method, params] of notifications) turn.onNotification(method, params);
  turn.onNotification("turn/completed", { turn: { status: "completed" } });
  const events: TurnEvent[] = [];
  for await (const batch of turn.channel) events.push(...batch);
  return events;
}
const kinds = (events: TurnEvent[]) => events.map((e) => (e.type === "text" ? `text:${e.delta}` : e.type));

describe("a model response that breaks off and is retried", () => {
  test("before any output: no retry event", async () => {
    expect(kinds(await eventsOf([retry, delta("ab")]))).toEqual(["text:ab"]);
  });

  test("after output: a retry event, in its place", async () => {
    expect(kinds(await eventsOf([delta("ab"), retry, delta("abcd")]))).toEqual(["text:ab", "retry", "text:abcd"]);
  });

  test("a repeated token total is no end of a response (Codex sends one when a stream breaks)", async () => {
    const events = await eventsOf([
      delta("Let me check."), ["thread/tokenUsage/updated", total(10)],
      delta("ab", "m2"), ["thread/tokenUsage/updated", total(10)], retry, delta("abcd", "m2"),
    ]);
    expect(kinds(events)).toEqual(["text:Let me check.", "usage", "text:ab", "retry", "text:abcd"]);
  });

  test("a new total ends the response: a retry after it, before new output, is invisible", async () => {
    const events = await eventsOf([delta("Let me check."), ["thread/tokenUsage/updated", total(10)], retry, delta("Done.", "m2")]);
    expect(kinds(events)).toEqual(["text:Let me check.", "usage", "text:Done."]);
  });
});

describe("message phases", () => {
  test("a message's phase from item/started goes on its text; partial_answer and none are left out", async () => {
    const started = (id: string, phase: unknown) => ["item/started", { item: { type: "agentMessage", id, phase } }] as const;
    const events = await eventsOf([
      started("m1", "commentary"), delta("Looking.", "m1"), started("m2", "final_answer"), delta("Sunny.", "m2"),
      started("m3", "partial_answer"), delta("x", "m3"), started("m4", null), delta("y", "m4"),
    ]);
    expect(events.map((e) => (e.type === "text" ? e.phase : e.type))).toEqual(["commentary", "final_answer", undefined, undefined]);
  });
});
