/** The client-tool side of a Codex turn: which raw items are the client's calls, when the step is complete. */
import { describe, expect, test } from "bun:test";
import { ClientToolCalls, NOT_RUN_HERE } from "../../src/codex/client-tool-calls.ts";

const raw = (call_id: string, name = "get_weather", args: unknown = '{"city":"Paris"}') => ({ type: "function_call", id: `fc_${call_id}`, call_id, name, arguments: args });
const rawUsage = { totalTokens: 10, inputTokens: 8, cachedInputTokens: 2, cacheWriteInputTokens: 0, outputTokens: 2, reasoningOutputTokens: 1 };

describe("ClientToolCalls", () => {
  test("the model's calls to client tools become tool_call events with the exact argument text", () => {
    const tools = new ClientToolCalls(["get_weather"], []);
    expect(tools.onRawItem(raw("call_1"))).toEqual({ type: "tool_call", id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(tools.onRawItem(raw("call_2", "get_weather", { city: "Rome" }))).toMatchObject({ arguments: '{"city":"Rome"}' });
  });

  test("Codex's own tools, other items, repeats and replayed history calls are not reported", () => {
    const tools = new ClientToolCalls(["get_weather"], ["call_old"]);
    expect(tools.onRawItem(raw("call_x", "request_user_input"))).toBeNull();
    expect(tools.onRawItem({ type: "message", role: "user", content: [] })).toBeNull();
    expect(tools.onRawItem(raw("call_old"))).toBeNull();
    expect(tools.onRawItem(raw("call_1"))).not.toBeNull();
    expect(tools.onRawItem(raw("call_1"))).toBeNull();
  });

  test("the end of a response with client calls completes the step, with the usage summed so far", () => {
    const tools = new ClientToolCalls(["get_weather"], []);
    expect(tools.onRawResponse(rawUsage)).toEqual([]);
    tools.onRawItem(raw("call_1"));
    const events = tools.onRawResponse(rawUsage);
    expect(events).toEqual([
      { type: "usage", usage: { inputTokens: 16, cachedInputTokens: 4, outputTokens: 4, reasoningOutputTokens: 2, totalTokens: 20 } },
      { type: "tool_calls_complete" },
    ]);
    expect(tools.onRawResponse(null)).toEqual([]);
  });

  test("parked tool requests are answered (not run here) only on release", async () => {
    const tools = new ClientToolCalls(["get_weather"], []);
    let answered: unknown = null;
    const parked = tools.park().then((a) => (answered = a));
    await Promise.resolve();
    expect(answered).toBeNull();
    tools.release();
    await parked;
    expect(answered).toEqual(NOT_RUN_HERE);
    expect(NOT_RUN_HERE.success).toBe(false);
  });
});
