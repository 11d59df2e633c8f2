import { describe, expect, test } from "bun:test";
import type { TurnEvent } from "../../src/codex/types.ts";
import { ApiError } from "../../src/openai/errors.ts";
import type { ResponseSettings } from "../../src/openai/responses-request.ts";
import { eventFrame, ResponseEventFold, type ResponseEvent } from "../../src/openai/responses-stream.ts";

const meta = { id: "resp_test", createdAt: 1700000000, model: "codex-5" };
const settings: ResponseSettings = {
  instructions: null, max_output_tokens: null, metadata: {}, parallel_tool_calls: true,
  reasoning: { effort: null, summary: null }, temperature: 1, top_p: 1, text: { format: { type: "text" } },
  tool_choice: "auto", tools: [], user: null,
};
const usage = { inputTokens: 10, cachedInputTokens: 3, outputTokens: 7, reasoningOutputTokens: 2, totalTokens: 17 };

function run(events: TurnEvent[], options = { includeReasoning: false, parallelToolCalls: true }) {
  const fold = new ResponseEventFold(meta, settings, options);
  const out: ResponseEvent[] = [...fold.start()];
  let stoppedAt = -1;
  for (const [i, event] of events.entries()) {
    const step = fold.apply(event);
    out.push(...step.events);
    if (step.stop) {
      stoppedAt = i;
      break;
    }
  }
  out.push(...fold.complete());
  return { fold, out, stoppedAt };
}

describe("Responses stream events", () => {
  test("a text answer: the lifecycle and item events in OpenAI's order, numbered from 0", () => {
    const { out, fold } = run([{ type: "text", delta: "Hel" }, { type: "text", delta: "lo" }, { type: "usage", usage }]);
    expect(out.map((e) => e.type)).toEqual([
      "response.created", "response.in_progress",
      "response.output_item.added", "response.content_part.added",
      "response.output_text.delta", "response.output_text.delta",
      "response.output_text.done", "response.content_part.done", "response.output_item.done",
      "response.completed",
    ]);
    expect(out.map((e) => e.sequence_number)).toEqual(out.map((_, i) => i));
    const itemId = (out[2]!.item as { id: string }).id;
    expect(itemId).toMatch(/^msg_/);
    for (const e of out.slice(3, 8)) expect([e.item_id, e.output_index, e.content_index]).toEqual([itemId, 0, 0]);
    expect(out[2]!.item).toEqual({ type: "message", id: itemId, status: "in_progress", role: "assistant", content: [] });
    expect(out[6]!.text).toBe("Hello");
    expect(out[7]!.part).toEqual({ type: "output_text", text: "Hello", annotations: [], logprobs: [] });
    const created = out[0]!.response as any;
    expect([created.id, created.status, created.output, created.usage]).toEqual(["resp_test", "in_progress", [], null]);
    const done = out.at(-1)!.response as any;
    expect(done.status).toBe("completed");
    expect(done.output_text).toBe("Hello");
    expect(done.output).toEqual([{ type: "message", id: itemId, status: "completed", role: "assistant", content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }] }]);
    expect(done.usage).toEqual({
      input_tokens: 10, input_tokens_details: { cached_tokens: 3 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 17,
    });
    expect(fold.response("completed")).toEqual(done);
  });

  test("reasoning, then text, then a function call: three items with their own indexes and unique ids", () => {
    const { out } = run([
      { type: "reasoning", delta: "Think" }, { type: "reasoning", delta: "ing." },
      { type: "text", delta: "Checking." },
      { type: "tool_call", id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
      { type: "usage", usage }, { type: "tool_calls_complete" },
    ], { includeReasoning: true, parallelToolCalls: true });
    expect(out.map((e) => e.type)).toEqual([
      "response.created", "response.in_progress",
      "response.output_item.added", "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
      "response.output_item.added", "response.content_part.added", "response.output_text.delta",
      "response.output_text.done", "response.content_part.done", "response.output_item.done",
      "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
      "response.completed",
    ]);
    const added = out.filter((e) => e.type === "response.output_item.added");
    expect(added.map((e) => e.output_index)).toEqual([0, 1, 2]);
    const ids = added.map((e) => (e.item as { id: string }).id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.map((id) => id.split("_")[0])).toEqual(["rs", "msg", "fc"]);
    expect(added[2]!.item).toMatchObject({ type: "function_call", call_id: "call_1", name: "get_weather", arguments: "", status: "in_progress" });
    const argsDone = out.find((e) => e.type === "response.function_call_arguments.done")!;
    expect([argsDone.item_id, argsDone.output_index, argsDone.arguments, argsDone.name]).toEqual([ids[2], 2, "{\"city\":\"Paris\"}", "get_weather"]);
    const response = out.at(-1)!.response as any;
    expect(response.output[0]).toEqual({ type: "reasoning", id: ids[0], summary: [{ type: "summary_text", text: "Thinking." }] });
    expect(response.output[2]).toEqual({
      type: "function_call", id: ids[2], call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}", status: "completed",
    });
    expect(response.output_text).toBe("Checking.");
  });

  test("reasoning is left out unless summaries were asked for", () => {
    const { out } = run([{ type: "reasoning", delta: "secret" }, { type: "text", delta: "Hi" }]);
    expect(out.some((e) => e.type.includes("reasoning"))).toBe(false);
    expect((out.at(-1)!.response as any).output.map((i: any) => i.type)).toEqual(["message"]);
  });

  test("tool calls stop the response once the step's calls are known; parallel_tool_calls:false keeps only the first", () => {
    const calls: TurnEvent[] = [
      { type: "tool_call", id: "call_a", name: "f", arguments: "{}" },
      { type: "tool_call", id: "call_b", name: "g", arguments: "{}" },
      { type: "tool_calls_complete" },
      { type: "text", delta: "never" },
    ];
    const parallel = run(calls);
    expect(parallel.stoppedAt).toBe(2);
    expect((parallel.out.at(-1)!.response as any).output.map((i: any) => i.call_id)).toEqual(["call_a", "call_b"]);
    const single = run(calls, { includeReasoning: false, parallelToolCalls: false });
    expect(single.stoppedAt).toBe(2);
    expect(single.out.filter((e) => e.type === "response.output_item.added")).toHaveLength(1);
    expect((single.out.at(-1)!.response as any).output.map((i: any) => i.call_id)).toEqual(["call_a"]);
  });

  test("a completed response always has usage, zeros when Codex reported none", () => {
    const { out } = run([{ type: "text", delta: "x" }]);
    expect((out.at(-1)!.response as any).usage).toEqual({
      input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0,
    });
  });

  test("a failure is a typed error event, then response.failed carrying the error", () => {
    const fold = new ResponseEventFold(meta, settings, { includeReasoning: false, parallelToolCalls: true });
    const events = [...fold.start(), ...fold.apply({ type: "text", delta: "par" }).events];
    const failed = fold.fail(new ApiError({ status: 502, type: "server_error", code: "upstream_error", message: "boom" }));
    expect(failed.map((e) => [e.type, e.sequence_number])).toEqual([["error", events.length], ["response.failed", events.length + 1]]);
    expect(failed[0]).toMatchObject({
      code: "upstream_error", message: "boom", param: null,
      error: { type: "server_error", code: "upstream_error", message: "boom", param: null },
    });
    const response = failed[1]!.response as any;
    expect(response.status).toBe("failed");
    expect(response.error).toEqual({ code: "server_error", message: "boom", type: "server_error", param: null });
    expect(response.output[0].content[0].text).toBe("par");
  });

  test("frames are named SSE events whose data is the event", () => {
    const frame = eventFrame({ type: "response.output_text.delta", sequence_number: 4, delta: "a\nb" });
    expect(frame).toBe(`event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":4,"delta":"a\\nb"}\n\n`);
  });
});
