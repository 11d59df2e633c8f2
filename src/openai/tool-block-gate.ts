/**
 * The seed's tool-block controls for one choice, as a pure state machine over streamed
 * text. It decides what may be forwarded now, what is held back, and when the turn should
 * end; the caller owns the clock (the burst grace timer) and the Codex turn.
 *
 * - Text after the last complete block is held back while blocks are being cut or the
 *   tail suppressed; text between two blocks goes out with the second one.
 * - Stop-after-tools (PROXY_STOP_AFTER_TOOLS, or PROXY_TOOL_BLOCK_MAX > 0, or mode
 *   `first`): `first` ends the turn right after the first block; `burst` ends it when no
 *   new block followed within the grace period.
 * - PROXY_TOOL_BLOCK_MAX: blocks beyond the cap are dropped (`truncated`) and end the turn.
 * - PROXY_SUPPRESS_TAIL_AFTER_TOOLS alone: the tail is dropped, the turn runs to its end.
 */
import { ToolBlockScanner, type Segment } from "./tool-blocks.ts";

export type StopAfterToolsMode = "burst" | "first";

export interface ToolBlockPolicy {
  stopAfterTools: boolean;
  mode: StopAfterToolsMode;
  graceMs: number;
  suppressTail: boolean;
  /** 0 = no cap. */
  max: number;
}

/** What the caller should do after feeding text in. */
export type GateAction = "continue" | "arm_grace" | "stop";

export interface GateStep {
  forward: string;
  action: GateAction;
}

export class ToolBlockGate {
  readonly #scanner = new ToolBlockScanner();
  #held = "";
  #count = 0;
  #truncated = false;
  #stopped = false;

  constructor(readonly policy: ToolBlockPolicy) {}

  /** Stop-after-tools is in force (the seed's ENFORCE_STOP_AFTER_TOOLS). */
  get enforcing(): boolean {
    return this.policy.stopAfterTools || this.policy.max > 0 || this.policy.mode === "first";
  }

  /** Complete blocks forwarded so far. */
  get count(): number {
    return this.#count;
  }

  /** The model wrote more blocks than were forwarded. */
  get truncated(): boolean {
    return this.#truncated;
  }

  get #holdsTail(): boolean {
    return this.#count > 0 && (this.policy.suppressTail || this.enforcing);
  }

  push(text: string): GateStep {
    return this.#apply(this.#scanner.push(text));
  }

  /** The turn ended on its own: release what may still go out. */
  end(): string {
    const { forward } = this.#apply(this.#scanner.flush());
    return forward;
  }

  #apply(segments: Segment[]): GateStep {
    let forward = "";
    let action: GateAction = "continue";
    for (const segment of segments) {
      if (this.#stopped) {
        if (segment.type === "block") this.#truncated = true;
        continue;
      }
      if (segment.type === "text") {
        if (this.#holdsTail) this.#held += segment.text;
        else forward += segment.text;
        continue;
      }
      if (this.policy.max > 0 && this.#count >= this.policy.max) {
        this.#truncated = true;
        this.#stopped = true;
        action = "stop";
        continue;
      }
      forward += this.#held + segment.block.raw;
      this.#held = "";
      this.#count++;
      if (!this.enforcing) continue;
      if (this.policy.mode === "first") {
        this.#stopped = true;
        action = "stop";
      } else {
        action = "arm_grace";
      }
    }
    return { forward, action };
  }
}
