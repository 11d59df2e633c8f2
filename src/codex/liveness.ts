/**
 * Detects a hung app-server (stopped, deadlocked, wedged on I/O), which an exit watcher never
 * sees: one cheap JSON-RPC request every interval, and a worker whose answer takes longer
 * than the timeout is declared dead. `account/read` is the probe because its answer also
 * says whether Codex has credentials, so a later `codex login` is noticed without a restart.
 */

export interface LivenessOptions {
  /** Time between probes; 0 turns the probe off. */
  intervalMs: number;
  /** How long one probe may stay unanswered before the worker counts as hung. */
  timeoutMs: number;
}

export interface LivenessHandlers {
  /** A probe was answered with a result (an RPC error is an answer too, without a result). */
  onAnswer(result: unknown): void;
  /** A probe went unanswered for the timeout; the probe stops itself. */
  onUnresponsive(): void;
}

export class LivenessProbe {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    private readonly ask: () => Promise<unknown>,
    private readonly options: LivenessOptions,
    private readonly handlers: LivenessHandlers,
  ) {}

  start(): void {
    if (this.options.intervalMs > 0) this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#probe(), this.options.intervalMs);
  }

  async #probe(): Promise<void> {
    let expiry: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => (expiry = setTimeout(() => resolve("expired"), this.options.timeoutMs)));
    const answered = this.ask().then((result) => ({ result }), () => ({ result: undefined }));
    const outcome = await Promise.race([answered, expired]);
    clearTimeout(expiry);
    if (this.#stopped) return;
    if (outcome === "expired") {
      this.#stopped = true;
      this.handlers.onUnresponsive();
      return;
    }
    if (outcome.result !== undefined) this.handlers.onAnswer(outcome.result);
    this.#schedule();
  }
}

/** Credentials Codex reads from its environment, which `account/read` does not report. */
const ENV_CREDENTIALS = ["CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_ACCESS_TOKEN"];

/**
 * True when Codex would have to call OpenAI without credentials: the provider needs OpenAI
 * auth, no account is stored in CODEX_HOME and no credential variable is set. Codex itself
 * would retry such a turn for minutes before failing.
 */
export function loginMissing(accountRead: unknown, env: Record<string, string>): boolean {
  const answer = accountRead as { account?: unknown; requiresOpenaiAuth?: unknown } | null;
  if (!answer || answer.requiresOpenaiAuth !== true || answer.account) return false;
  return !ENV_CREDENTIALS.some((name) => env[name]);
}
