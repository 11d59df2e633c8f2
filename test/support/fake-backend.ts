/**
 * An in-process CodexBackend for route tests: each turn plays a scripted list of events
 * (or throws), one event per batch — the smallest batches the real workers deliver — and
 * every TurnRequest it was handed is kept for assertions.
 */
import type { CodexModelInfo } from "../../src/config/models.ts";
import type { BackendHealth, CodexBackend, TurnEvent, TurnRequest } from "../../src/codex/types.ts";

export type Script = (request: TurnRequest) => Array<TurnEvent | Error> | AsyncIterable<TurnEvent>;

export const textTurn = (text: string): TurnEvent[] => [
  { type: "text", delta: text },
  { type: "usage", usage: { inputTokens: 5, cachedInputTokens: 1, outputTokens: 3, reasoningOutputTokens: 0, totalTokens: 8 } },
];

export class FakeBackend implements CodexBackend {
  requests: TurnRequest[] = [];
  ready = true;
  aborted = 0;

  constructor(public script: Script = () => textTurn("hello")) {}

  async *runTurn(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent[]> {
    this.requests.push(request);
    const onAbort = () => this.aborted++;
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const events = this.script(request);
      for await (const event of events as AsyncIterable<TurnEvent | Error>) {
        if (signal.aborted) throw signal.reason;
        if (event instanceof Error) throw event;
        yield [event];
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  health(): BackendHealth {
    return { ready: this.ready, workers: 1, readyWorkers: this.ready ? 1 : 0, restarts: 0, queued: 0 };
  }

  models(): CodexModelInfo[] {
    return [{ slug: "gpt-5.5", contextWindow: 272000 }];
  }

  async close(): Promise<void> {}
}
