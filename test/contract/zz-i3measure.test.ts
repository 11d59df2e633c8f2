import { test } from "bun:test";
import { startProxy } from "../support/proxy-harness.ts";
test("measure", async () => {
  const proxy = await startProxy();
  const weather = { type: "function", function: { name: "get_weather", description: "w", parameters: { type: "object", properties: {} } } };
  const time = async (body: any) => { const t = performance.now(); const r = await proxy.post("/v1/chat/completions", body); await r.text(); return performance.now() - t; };
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(1);
  try {
    for (const [label, body] of [
      ["text", { model: "codex-5", messages: [{ role: "user", content: "hi" }] }],
      ["tool call", { model: "codex-5", tools: [weather], messages: [{ role: "user", content: "[[call:get_weather]] [[args:{}]]" }] }],
      ["tool result", { model: "codex-5", tools: [weather], messages: [{ role: "user", content: "x" }, { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } }] }, { role: "tool", tool_call_id: "c1", content: "ok" }] }],
      ["n=3 text", { model: "codex-5", n: 3, messages: [{ role: "user", content: "hi" }] }],
    ] as const) {
      await time(body);
      const xs: number[] = [];
      for (let i = 0; i < 15; i++) xs.push(await time(body));
      console.log(label, "median ms", med(xs), "min", Math.min(...xs).toFixed(1), "max", Math.max(...xs).toFixed(1));
    }
  } finally { await proxy.stop(); }
}, 120_000);
