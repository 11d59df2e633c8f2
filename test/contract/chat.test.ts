/**
 * Chat Completions through the whole real path: HTTP → our server → real `codex app-server`
 * → fake Responses API model server, and back.
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { DEFAULT_REPLY, DEFAULT_USAGE } from "../support/fake-model-server.ts";
import { codexPids, waitFor } from "../support/processes.ts";
import { proxyForFile, readSse, startProxy } from "../support/proxy-harness.ts";

const live = proxyForFile();

const expectedUsage = {
  prompt_tokens: DEFAULT_USAGE.input,
  completion_tokens: DEFAULT_USAGE.output,
  total_tokens: DEFAULT_USAGE.input + DEFAULT_USAGE.output,
  prompt_tokens_details: { cached_tokens: DEFAULT_USAGE.cached, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: DEFAULT_USAGE.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

const lastUpstream = () => live.proxy.fake.requests.at(-1)!.body;

describe("non-streamed chat", () => {
  test("returns the model's text, the requested model id and the real token counts", async () => {
    const res = await live.proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("codex-5");
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(60);
    expect(body.choices).toEqual([{ index: 0, message: { role: "assistant", content: DEFAULT_REPLY, refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }]);
    expect(body.usage).toEqual(expectedUsage);
  });

  test("system prompt arrives as Codex instructions; history arrives in order", async () => {
    await live.proxy.post("/v1/chat/completions", {
      model: "codex-5",
      messages: [
        { role: "system", content: "You are a pirate." },
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Ahoy, Ada." },
        { role: "user", content: "What is my name?" },
      ],
    });
    const input = lastUpstream().input as Array<{ role?: string; content: Array<{ text?: string }> }>;
    expect(input.map((i) => i.role)).toEqual(["developer", "user", "assistant", "user"]);
    expect(input[0]!.content[0]!.text).toBe("You are a pirate.");
    expect(input.slice(1).map((i) => i.content[0]!.text)).toEqual(["My name is Ada.", "Ahoy, Ada.", "What is my name?"]);
  });

  test("an image part reaches the model as input_image", async () => {
    const url = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    const res = await live.proxy.post("/v1/chat/completions", {
      model: "codex-5",
      messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url } }] }],
    });
    expect(res.status).toBe(200);
    const parts = (lastUpstream().input as any[]).at(-1).content;
    expect(parts).toContainEqual({ type: "input_text", text: "what is this?" });
    expect(parts.find((p: any) => p.type === "input_image")?.image_url).toBe(url);
  });

  test("the reasoning effort from a model suffix reaches the model", async () => {
    await live.proxy.post("/v1/chat/completions", { model: "codex-5-high", messages: [{ role: "user", content: "think" }] });
    expect(lastUpstream().reasoning?.effort).toBe("high");
    await live.proxy.post("/v1/chat/completions", { model: "codex-5-high", reasoning_effort: "low", messages: [{ role: "user", content: "think less" }] });
    expect(lastUpstream().reasoning?.effort).toBe("low");
  });

  test("Codex is isolated: the model is offered no shell, patch or web tools", async () => {
    await live.proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "tools?" }] });
    const names = (lastUpstream().tools ?? []).map((t: any) => t.name ?? t.type);
    for (const forbidden of ["shell", "exec_command", "apply_patch", "web_search", "view_image", "local_shell"]) {
      expect(names).not.toContain(forbidden);
    }
  });
});

describe("streamed chat", () => {
  test("role chunk, content deltas, one finish chunk, usage chunk, [DONE]", async () => {
    const res = await live.proxy.post("/v1/chat/completions", {
      model: "codex-5", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "codex-5")).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe(DEFAULT_REPLY);
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finishes.map((c) => c.choices[0].finish_reason)).toEqual(["stop"]);
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(expectedUsage);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  test("without include_usage there is no usage chunk", async () => {
    const res = await live.proxy.post("/v1/chat/completions", { model: "codex-5", stream: true, messages: [{ role: "user", content: "hi" }] });
    const { data } = await readSse(res);
    expect(data.slice(0, -1).every((c) => c.choices.length === 1 && !("usage" in c))).toBe(true);
  });

  test("upstream failures before the first byte keep their HTTP status", async () => {
    const bad = await live.proxy.post("/v1/chat/completions", { model: "codex-5", stream: true, messages: [{ role: "user", content: "[[scenario:error400]]" }] });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ type: "invalid_request_error", message: "fake bad request" });
    const limited = await live.proxy.post("/v1/chat/completions", { model: "codex-5", stream: true, messages: [{ role: "user", content: "[[scenario:error429]]" }] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBeTruthy();
    for (const stream of [true, false]) {
      const broken = await live.proxy.post("/v1/chat/completions", { model: "codex-5", stream, messages: [{ role: "user", content: "[[scenario:error500]]" }] });
      expect([stream, broken.status]).toEqual([stream, 502]);
      expect((await broken.json()).error.type).toBe("server_error");
    }
  });
});

describe("the official openai SDK", () => {
  test("chat.completions.create, non-streamed", async () => {
    const completion = await live.client.chat.completions.create({ model: "codex-5", messages: [{ role: "user", content: "hi" }] });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(completion.usage?.prompt_tokens).toBe(DEFAULT_USAGE.input);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(DEFAULT_USAGE.cached);
  });

  test("chat.completions.create, streamed with include_usage", async () => {
    const stream = await live.client.chat.completions.create({
      model: "codex-5", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(DEFAULT_REPLY);
    expect(usage?.completion_tokens).toBe(DEFAULT_USAGE.output);
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(DEFAULT_USAGE.reasoning);
  });

  test("the strict .stream() helper finishes with the right text and usage", async () => {
    const runner = live.client.chat.completions.stream({
      model: "codex-5", stream_options: { include_usage: true }, messages: [{ role: "user", content: "[[reply:Strict helpers are happy.]]" }],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("Strict helpers are happy.");
    expect(final.choices[0]!.finish_reason).toBe("stop");
    expect(final.usage?.total_tokens).toBe(DEFAULT_USAGE.input + DEFAULT_USAGE.output);
  });

  test("two messages the model wrote in one turn are one content, a blank line apart, streamed and not (legacy completions too)", async () => {
    const params = { model: "codex-5", messages: [{ role: "user" as const, content: "[[scenario:twomsgs]] go" }] };
    const expected = `First message.\n\n${DEFAULT_REPLY}`;
    expect((await live.client.chat.completions.create(params)).choices[0]!.message.content).toBe(expected);
    expect((await live.client.chat.completions.stream(params).finalChatCompletion()).choices[0]!.message.content).toBe(expected);
    expect((await live.client.completions.create({ model: "codex-5", prompt: "[[scenario:twomsgs]] go" })).choices[0]!.text).toBe(expected);
    let streamed = "";
    for await (const chunk of await live.client.completions.create({ model: "codex-5", prompt: "[[scenario:twomsgs]] go", stream: true })) streamed += chunk.choices[0]?.text ?? "";
    expect(streamed).toBe(expected);
  });

  test("stop ends the text before the sequence, streamed and not, with the whole turn's usage (LangChain's ReAct agents rely on it)", async () => {
    const content = "[[reply:Thought: look it up. Observation: made-up result. Final Answer: 42]] [[chunks:9]]";
    const params = { model: "codex-5", messages: [{ role: "user" as const, content }], stop: ["Observation:"] };
    const completion = await live.client.chat.completions.create(params);
    expect(completion.choices[0]!.message.content).toBe("Thought: look it up. ");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage?.completion_tokens).toBe(DEFAULT_USAGE.output);
    const final = await live.client.chat.completions.stream({ ...params, stream_options: { include_usage: true } }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("Thought: look it up. ");
    expect(final.choices[0]!.finish_reason).toBe("stop");
    expect(final.usage?.completion_tokens).toBe(DEFAULT_USAGE.output);
  });

  test("errors arrive as typed SDK errors", async () => {
    const error = await live.client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe("model_not_found");
    const bad = new OpenAI({ apiKey: "wrong", baseURL: `${live.proxy.url}/v1`, maxRetries: 0 });
    expect(await bad.chat.completions.create({ model: "codex-5", messages: [{ role: "user", content: "hi" }] }).catch((e) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe("disconnects and worker faults", () => {
  test("closing the client mid-stream interrupts the Codex turn, and the next request succeeds", async () => {
    const before = live.proxy.fake.requests.length;
    const controller = new AbortController();
    const res = await fetch(`${live.proxy.url}/v1/chat/completions`, {
      method: "POST", headers: live.proxy.headers(), signal: controller.signal,
      body: JSON.stringify({ model: "codex-5", stream: true, messages: [{ role: "user", content: "[[scenario:stall]]" }] }),
    });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain("chat.completion.chunk");
    controller.abort();
    const upstream = live.proxy.fake.requests[before]!;
    const outcome = await Promise.race([upstream.finished, Bun.sleep(10_000).then(() => ({ aborted: false, timeout: true }))]);
    expect(outcome).toEqual({ aborted: true });
    const next = await live.proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "still there?" }] });
    expect(next.status).toBe(200);
  });

  test("killing the worker mid-stream gives the client one clean error and the pool recovers", async () => {
    const [pid] = codexPids(live.proxy.home.path);
    expect(pid).toBeGreaterThan(0);
    const res = await live.proxy.post("/v1/chat/completions", { model: "codex-5", stream: true, messages: [{ role: "user", content: "[[scenario:stall]]" }] });
    const reader = res.body!.getReader();
    await reader.read();
    process.kill(pid!, "SIGKILL");
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    const frames = rest.split("\n\n").filter((f) => f.startsWith("data: "));
    expect(frames.at(-1)).toBe("data: [DONE]");
    expect(JSON.parse(frames.at(-2)!.slice(6)).error.code).toBe("worker_exited");
    await waitFor(async () => (await fetch(`${live.proxy.url}/readyz`)).status === 200 && codexPids(live.proxy.home.path).length === 1, 15_000, "a restarted worker");
    expect(codexPids(live.proxy.home.path)).not.toContain(pid!);
    const next = await live.proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "again" }] });
    expect(next.status).toBe(200);
  });
});

describe("keepalive", () => {
  test("': keepalive' comments flow while Codex is silent", async () => {
    const quick = await startProxy({ PROXY_SSE_KEEPALIVE_MS: "200" });
    try {
      const controller = new AbortController();
      const res = await fetch(`${quick.url}/v1/chat/completions`, {
        method: "POST", headers: quick.headers(), signal: controller.signal,
        body: JSON.stringify({ model: "codex-5", stream: true, messages: [{ role: "user", content: "[[scenario:stall]]" }] }),
      });
      const reader = res.body!.getReader();
      let text = "";
      const until = Date.now() + 1_500;
      while (Date.now() < until && (text.match(/: keepalive/g) ?? []).length < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      controller.abort();
      expect((text.match(/: keepalive/g) ?? []).length).toBeGreaterThanOrEqual(2);
    } finally {
      await quick.stop();
    }
  });
});
