/**
 * A CodexBackend whose turns say one thing and then hold until aborted (like a stalled
 * model) or finished by the test; it records how each turn ended, so tests can check that
 * the proxy interrupted it.
 */
import type { BackendHealth, CodexBackend, TurnEvent, TurnRequest } from "../../src/codex/types.ts";
import type { CodexModelInfo } from "../../src/config/models.ts";

export interface HeldTurn {
  request: TurnRequest;
  /** Resolves with the abort reason, or "finished" when the test let the turn complete. */
  ended: Promise<unknown>;
  finish(): void;
}

export class HoldingBackend implements CodexBackend {
  turns: HeldTurn[] = [];

  constructor(private readonly options: { failFirst?: Error } = {}) {}

  async *runTurn(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent[]> {
    if (this.options.failFirst) throw this.options.failFirst;
    let finish!: () => void;
    let end!: (how: unknown) => void;
    const finished = new Promise<void>((r) => (finish = r));
    const ended = new Promise<unknown>((r) => (end = r));
    this.turns.push({ request, ended, finish });
    yield [{ type: "text", delta: "partial " }];
    const aborted = new Promise<"aborted">((r) => {
      if (signal.aborted) r("aborted");
      else signal.addEventListener("abort", () => r("aborted"), { once: true });
    });
    const how = await Promise.race([finished.then(() => "finished" as const), aborted]);
    if (how === "aborted") {
      end(signal.reason);
      throw signal.reason;
    }
    yield [
      { type: "text", delta: "answer" },
      { type: "usage", usage: { inputTokens: 10, cachedInputTokens: 2, outputTokens: 4, reasoningOutputTokens: 1, totalTokens: 14 } },
    ];
    end("finished");
  }

  health(): BackendHealth {
    return { ready: true, workers: 1, readyWorkers: 1, restarts: 0, queued: 0 };
  }

  models(): CodexModelInfo[] {
    return [{ slug: "gpt-5.5", contextWindow: 272000 }];
  }

  async close(): Promise<void> {}
}
