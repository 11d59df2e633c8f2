/**
 * The load generator: a closed loop of `concurrency` clients, each sending its next request
 * as soon as the last one finished, until a request count or a time budget is spent. One
 * sample per request: time to first content (TTFT), total time, and whether it was right.
 */

export interface Sample {
  /** Milliseconds from sending the request to the first non-empty content delta. */
  ttftMs: number;
  /** Milliseconds from sending the request to the end of the response. */
  totalMs: number;
  ok: boolean;
  error?: string;
}

/** One request from start to end; never throws (a failure is a sample with ok=false). */
export type Shot = () => Promise<Sample>;

export interface LoadOptions {
  concurrency: number;
  /** Stop issuing after this many requests… */
  requests: number;
  /** …or once this much time has passed, whichever comes first. */
  budgetMs: number;
}

export interface LoadResult {
  samples: Sample[];
  wallMs: number;
}

export async function runLoad(shot: Shot, options: LoadOptions): Promise<LoadResult> {
  const samples: Sample[] = [];
  const started = performance.now();
  const deadline = started + options.budgetMs;
  let issued = 0;
  const client = async () => {
    while (issued < options.requests && performance.now() < deadline) {
      issued++;
      samples.push(await shot());
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return { samples, wallMs: performance.now() - started };
}

const failed = (t0: number, error: string): Sample => {
  const ms = performance.now() - t0;
  return { ttftMs: ms, totalMs: ms, ok: false, error };
};

/**
 * A streamed request: reads the SSE body frame by frame; TTFT is the first frame whose
 * delta carries content. Right = HTTP 200, no error frame, `[DONE]` last, and exactly
 * `expectChars` characters of content.
 */
export function sseShot(url: string, init: RequestInit, expectChars: number, contentOf: (payload: any) => string | undefined): Shot {
  return async () => {
    const t0 = performance.now();
    let ttft = -1;
    try {
      const response = await fetch(url, init);
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        return failed(t0, `HTTP ${response.status}`);
      }
      const decoder = new TextDecoder();
      let buffer = "";
      let chars = 0;
      let done = false;
      let error: string | undefined;
      const reader = response.body.getReader();
      for (;;) {
        const { done: ended, value } = await reader.read();
        if (ended) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.startsWith("data: ")) continue;
          const data = frame.slice(6);
          if (data === "[DONE]") {
            done = true;
            continue;
          }
          const payload = JSON.parse(data);
          if (payload.error) error = payload.error.code ?? "error frame";
          const text = contentOf(payload);
          if (text) {
            if (ttft < 0) ttft = performance.now() - t0;
            chars += text.length;
          }
        }
      }
      const totalMs = performance.now() - t0;
      const wrong = error ?? (!done ? "no [DONE]" : chars !== expectChars ? `got ${chars} of ${expectChars} chars` : undefined);
      return { ttftMs: ttft < 0 ? totalMs : ttft, totalMs, ok: !wrong, ...(wrong ? { error: wrong } : {}) };
    } catch (err) {
      return failed(t0, (err as Error).message);
    }
  };
}

/** A non-streamed request: right = HTTP 200 and `check(body)` holds. TTFT = total. */
export function jsonShot(url: string, init: RequestInit, check: (body: any) => boolean): Shot {
  return async () => {
    const t0 = performance.now();
    try {
      const response = await fetch(url, init);
      const body = await response.json().catch(() => null);
      const totalMs = performance.now() - t0;
      const wrong = response.status !== 200 ? `HTTP ${response.status}` : !check(body) ? "unexpected body" : undefined;
      return { ttftMs: totalMs, totalMs, ok: !wrong, ...(wrong ? { error: wrong } : {}) };
    } catch (err) {
      return failed(t0, (err as Error).message);
    }
  };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Summary {
  requests: number;
  errors: number;
  firstError?: string;
  reqPerSec: number;
  ttftP50: number;
  ttftP99: number;
  totalP50: number;
  totalP99: number;
}

export function summarize({ samples, wallMs }: LoadResult): Summary {
  const good = samples.filter((s) => s.ok);
  const bad = samples.find((s) => !s.ok);
  return {
    requests: samples.length,
    errors: samples.length - good.length,
    ...(bad ? { firstError: bad.error } : {}),
    reqPerSec: (good.length * 1000) / wallMs,
    ttftP50: percentile(good.map((s) => s.ttftMs), 50),
    ttftP99: percentile(good.map((s) => s.ttftMs), 99),
    totalP50: percentile(good.map((s) => s.totalMs), 50),
    totalP99: percentile(good.map((s) => s.totalMs), 99),
  };
}
