/**
 * A scripted fake of the OpenAI Responses API (`POST /v1/responses`, SSE) for the real
 * Codex binary to talk to. Each request's behaviour is chosen by markers in the last user
 * message, so a test steers the model through the proxy without any side channel:
 *
 *   [[reply:TEXT]]            answer exactly TEXT (default: "Hello from the fake model.");
 *                             "{{seq}}" in TEXT becomes this request's number (1, 2, …)
 *   [[scenario:echo]]         answer with a summary of what the fake received
 *   [[scenario:slow]]         200 ms between deltas
 *   [[scenario:stall]]        one delta, then nothing until the client hangs up
 *   [[scenario:error500]] [[scenario:error429]] [[scenario:error400]] [[scenario:failed]]
 *   [[scenario:cut]]          close the socket after the first delta
 *   [[scenario:cutonce]]      the same, only the first time this user text is seen (a retry gets the whole reply)
 *   [[scenario:dropfirst]]    close the socket before any output, only the first time this user text is seen
 *   [[scenario:reasoning]]    a reasoning item with a summary before the text
 *   [[scenario:multisummary]] a reasoning item with two summary parts before the text
 *   [[scenario:twomsgs]]      two message items: "First message." then the reply
 *   [[phases]]                message items carry a phase: the reply "final_answer", an earlier one "commentary"
 *   [[phase:P]]               the reply's phase is P (implies [[phases]])
 *   [[scenario:ctx]]          response.failed with context_length_exceeded
 *   [[scenario:incomplete]]   the reply, then response.incomplete ([[reason:R]], default max_output_tokens)
 *   [[call:NAME]] [[args:JSON]]  a function call (several pairs → parallel calls)
 *   [[preamble:TEXT]]         a message item with TEXT before the calls ("commentary" with [[phases]])
 *   [[cutresult]]             answering a function_call_output: cut after the first delta, the first time only
 *   [[usage:IN,CACHED,OUT,REASONING]]  the usage block to report
 *   [[chunks:N]]              stream the reply in N deltas (default 4)
 *   [[size:N]]                answer with N characters of filler text (benchmarks)
 *   [[delay:MS]]              MS between deltas (benchmarks; default 0, instant)
 *
 * A request with a json_schema `text.format` and no [[reply:]] gets a minimal instance of
 * the schema, so structured-output clients can parse the answer.
 *
 * When the last input item is a function_call_output, the fake answers
 * "TOOL RESULT <output>" so tool loops can be asserted end to end.
 */

export interface RecordedRequest {
  body: any;
  headers: Record<string, string>;
  /** Resolves when the response stream ended; `aborted` is true when the client hung up. */
  finished: Promise<{ aborted: boolean }>;
  /** How many earlier responses were still streaming when this request arrived. */
  openOnArrival: number;
}

export interface FakeModelServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface FakeUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export const DEFAULT_USAGE: FakeUsage = { input: 42, cached: 7, output: 13, reasoning: 3 };
export const DEFAULT_REPLY = "Hello from the fake model.";

type ResponseItem = { type: string; role?: string; content?: any; [k: string]: unknown };

function itemText(item: ResponseItem): string {
  if (typeof item.content === "string") return item.content;
  if (!Array.isArray(item.content)) return "";
  return item.content.map((p: any) => p.text ?? "").join("");
}

function lastUserText(input: ResponseItem[]): string {
  for (let i = input.length - 1; i >= 0; i--) {
    const it = input[i]!;
    if (it.type === "message" && it.role === "user") return itemText(it);
  }
  return "";
}

function markers(text: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`\\[\\[${name}:(.*?)\\]\\](?!\\])`, "gs");
  for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

function chunkText(text: string, parts = 4): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.max(1, Math.ceil(chars.length / parts));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

/** `length` characters of word-like text (the benchmarks' reply size). */
export function fillerText(length: number): string {
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
  return words.repeat(Math.ceil(length / words.length)).slice(0, Math.max(0, length));
}

/** The smallest value that satisfies the common JSON Schema keywords. */
export function schemaInstance(schema: any): unknown {
  if (!schema || typeof schema !== "object") return null;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return schemaInstance(alternatives[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object":
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, schemaInstance(v)]));
    case "array":
      return schema.items ? [schemaInstance(schema.items)] : [];
    case "string":
      return "text";
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    default:
      return null;
  }
}

function echoSummary(body: any): string {
  const input: ResponseItem[] = body.input ?? [];
  const roles = input.map((i) => (i.type === "message" ? i.role : i.type)).join(",");
  const tools = (body.tools ?? []).map((t: any) => t.name ?? t.type).join(",");
  return `ECHO model=${body.model} items=${input.length} roles=${roles} tools=[${tools}] reasoning=${JSON.stringify(body.reasoning ?? null)} last_user=${JSON.stringify(lastUserText(input))}`;
}

const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export function startFakeModelServer(options: { port?: number } = {}): FakeModelServer {
  const requests: RecordedRequest[] = [];
  let seq = 0;
  let open = 0;
  /** What was already cut once: the user texts of `cutonce`/`dropfirst`, and of `[[cutresult]]` answers to a tool result. */
  const cutOnce = new Set<string>();

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || !url.pathname.endsWith("/responses")) {
        return new Response("not found", { status: 404 });
      }
      const body = await req.json();
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      let settle!: (r: { aborted: boolean }) => void;
      const finished = new Promise<{ aborted: boolean }>((r) => (settle = r));
      let ended = false;
      const finish = (how: { aborted: boolean }) => {
        if (!ended) open--;
        ended = true;
        settle(how);
      };
      requests.push({ body, headers, finished, openOnArrival: open++ });

      const input: ResponseItem[] = body.input ?? [];
      const last = input[input.length - 1];
      const text = lastUserText(input);
      let scenario = markers(text, "scenario")[0] ?? "text";
      if (text.includes("[[cutresult]]") && last?.type === "function_call_output") {
        const key = `${text}\u0000result`;
        if (!cutOnce.has(key)) scenario = "cut";
        cutOnce.add(key);
      }
      if (scenario === "cutonce" || scenario === "dropfirst") {
        const first = !cutOnce.has(text);
        cutOnce.add(text);
        scenario = !first ? "text" : scenario === "cutonce" ? "cut" : "dropfirst";
      }
      const usageMarker = markers(text, "usage")[0];
      const [inTok, cached, outTok, reasoningTok] = usageMarker
        ? usageMarker.split(",").map(Number)
        : [DEFAULT_USAGE.input, DEFAULT_USAGE.cached, DEFAULT_USAGE.output, DEFAULT_USAGE.reasoning];

      if (scenario === "error500") { finish({ aborted: false }); return Response.json({ error: { message: "fake upstream boom" } }, { status: 500 }); }
      if (scenario === "error429") { finish({ aborted: false }); return Response.json({ error: { message: "slow down" } }, { status: 429, headers: { "retry-after": "0" } }); }
      if (scenario === "error400") {
        finish({ aborted: false });
        return Response.json({ error: { message: "fake bad request", type: "invalid_request_error", code: "invalid_request" } }, { status: 400 });
      }

      const respId = `resp_${++seq}`;
      const msgId = `msg_${seq}`;
      const format = body.text?.format;
      const schemaReply = format?.type === "json_schema" ? JSON.stringify(schemaInstance(format.schema)) : null;
      const size = markers(text, "size")[0];
      let reply = (markers(text, "reply")[0] ?? (size === undefined ? null : fillerText(Number(size))) ?? schemaReply ?? DEFAULT_REPLY)
        .replaceAll("{{seq}}", String(seq));
      const chunks = Number(markers(text, "chunks")[0] ?? 4);
      if (scenario === "echo") reply = echoSummary(body);
      if (last && last.type === "function_call_output") reply = `TOOL RESULT ${String((last as any).output)}`;
      const calls = last?.type === "function_call_output" ? [] : markers(text, "call");
      const args = markers(text, "args");
      const delay = scenario === "slow" ? 200 : Number(markers(text, "delay")[0] ?? 0);
      const replyPhase = markers(text, "phase")[0];
      const phased = text.includes("[[phases]]") || replyPhase !== undefined;
      const phase = (value: string) => (phased ? { phase: value } : {});

      const encoder = new TextEncoder();
      let aborted = false;
      const stream = new ReadableStream({
        async start(controller) {
          const send = (type: string, data: object) => controller.enqueue(encoder.encode(sse(type, data)));
          const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
          try {
            send("response.created", { response: { id: respId, status: "in_progress", output: [] } });
            if (scenario === "dropfirst") {
              await pause(50);
              controller.error(new Error("dropped"));
              finish({ aborted: false });
              return;
            }
            let index = 0;
            if (scenario === "reasoning" || scenario === "multisummary") {
              const parts = scenario === "reasoning" ? ["Thinking about the answer."] : ["First part.", "Second part."];
              const id = `rs_${seq}`;
              send("response.output_item.added", { output_index: index, item: { type: "reasoning", id, summary: [] } });
              parts.forEach((part, summaryIndex) => {
                send("response.reasoning_summary_part.added", { item_id: id, output_index: index, summary_index: summaryIndex, part: { type: "summary_text", text: "" } });
                for (const d of chunkText(part, 2)) {
                  send("response.reasoning_summary_text.delta", { item_id: id, output_index: index, summary_index: summaryIndex, delta: d });
                }
                send("response.reasoning_summary_part.done", { item_id: id, output_index: index, summary_index: summaryIndex, part: { type: "summary_text", text: part } });
              });
              send("response.output_item.done", { output_index: index, item: { type: "reasoning", id, summary: parts.map((text) => ({ type: "summary_text", text })) } });
              index++;
            }
            if (scenario === "twomsgs") {
              const first = "First message.";
              send("response.output_item.added", { output_index: index, item: { type: "message", id: `${msgId}_first`, role: "assistant", ...phase("commentary"), content: [] } });
              send("response.output_text.delta", { item_id: `${msgId}_first`, output_index: index, content_index: 0, delta: first });
              send("response.output_item.done", {
                output_index: index, item: { type: "message", id: `${msgId}_first`, role: "assistant", ...phase("commentary"), content: [{ type: "output_text", text: first }] },
              });
              index++;
            }
            if (calls.length === 0) {
              send("response.output_item.added", { output_index: index, item: { type: "message", id: msgId, role: "assistant", ...phase(replyPhase ?? "final_answer"), content: [] } });
              const deltas = chunkText(reply, chunks);
              for (let i = 0; i < deltas.length; i++) {
                if (aborted) return;
                send("response.output_text.delta", { item_id: msgId, output_index: index, content_index: 0, delta: deltas[i] });
                if (i === 0 && scenario === "stall") return; // hold the stream open, send nothing more
                if (i === 0 && scenario === "cut") {
                  await pause(50); // let the first delta reach the client before the socket goes
                  controller.error(new Error("cut"));
                  finish({ aborted: false });
                  return;
                }
                if (delay) await pause(delay);
              }
              send("response.output_text.done", { item_id: msgId, output_index: index, content_index: 0, text: reply });
              send("response.output_item.done", {
                output_index: index, item: { type: "message", id: msgId, role: "assistant", ...phase(replyPhase ?? "final_answer"), content: [{ type: "output_text", text: reply }] },
              });
            } else {
              const preamble = markers(text, "preamble")[0];
              if (preamble) {
                const id = `${msgId}_pre`;
                send("response.output_item.added", { output_index: index, item: { type: "message", id, role: "assistant", ...phase("commentary"), content: [] } });
                send("response.output_text.delta", { item_id: id, output_index: index, content_index: 0, delta: preamble });
                send("response.output_item.done", {
                  output_index: index, item: { type: "message", id, role: "assistant", ...phase("commentary"), content: [{ type: "output_text", text: preamble }] },
                });
                index++;
              }
              calls.forEach((name, i) => {
                const item = { type: "function_call", id: `fc_${seq}_${i}`, call_id: `call_${seq}_${i}`, name, arguments: args[i] ?? "{}" };
                send("response.output_item.done", { output_index: index + i, item });
              });
            }
            if (scenario === "failed") {
              send("response.failed", { response: { id: respId, status: "failed", error: { code: "server_error", message: "fake response.failed" } } });
            } else if (scenario === "incomplete") {
              send("response.incomplete", {
                response: {
                  id: respId, status: "incomplete", incomplete_details: { reason: markers(text, "reason")[0] ?? "max_output_tokens" },
                  usage: { input_tokens: inTok, input_tokens_details: { cached_tokens: cached }, output_tokens: outTok, output_tokens_details: { reasoning_tokens: reasoningTok }, total_tokens: inTok! + outTok! },
                },
              });
            } else if (scenario === "ctx") {
              send("response.failed", { response: { id: respId, status: "failed", error: { code: "context_length_exceeded", message: "Your input exceeds the context window of this model." } } });
            } else {
              send("response.completed", {
                response: {
                  id: respId, status: "completed",
                  usage: {
                    input_tokens: inTok, input_tokens_details: { cached_tokens: cached },
                    output_tokens: outTok, output_tokens_details: { reasoning_tokens: reasoningTok },
                    total_tokens: inTok! + outTok!,
                  },
                },
              });
            }
            controller.close();
            finish({ aborted: false });
          } catch {
            finish({ aborted });
          }
        },
        cancel() {
          aborted = true;
          finish({ aborted: true });
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    port: server.port!,
    requests,
    close: async () => { server.stop(true); },
  };
}

if (import.meta.main) {
  const fake = startFakeModelServer({ port: Number(process.env.FAKE_MODEL_PORT ?? 0) });
  console.log(JSON.stringify({ url: fake.url, port: fake.port }));
}
