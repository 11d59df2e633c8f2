/** `<use_tool>` blocks: the scanner never releases part of a block; the gate applies the seed's controls. */
import { describe, expect, test } from "bun:test";
import { ToolBlockGate, type ToolBlockPolicy } from "../../src/openai/tool-block-gate.ts";
import { ToolBlockScanner, type Segment } from "../../src/openai/tool-blocks.ts";

const BLOCK_A = "<use_tool>\n<name>search</name>\n<query>cats</query>\n</use_tool>";
const BLOCK_B = '<use_tool name="read_file"><path>notes/a.md</path></use_tool>';

/** Feeds `text` in pieces of `size` characters and returns every segment released. */
function scan(text: string, size: number): Segment[] {
  const scanner = new ToolBlockScanner();
  const out: Segment[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...scanner.push(text.slice(i, i + size)));
  out.push(...scanner.flush());
  return out;
}

const textOf = (segments: Segment[]) => segments.map((s) => (s.type === "text" ? s.text : s.block.raw)).join("");

describe("ToolBlockScanner", () => {
  const answer = `Let me check. ${BLOCK_A} and then ${BLOCK_B} done.`;

  test("whatever the chunking, blocks come out whole and the text is unchanged", () => {
    for (const size of [1, 2, 3, 7, 11, 64, answer.length]) {
      const segments = scan(answer, size);
      expect(textOf(segments)).toBe(answer);
      expect(segments.filter((s) => s.type === "block").map((s) => (s.type === "block" ? s.block.raw : ""))).toEqual([BLOCK_A, BLOCK_B]);
    }
  });

  test("a possible opening tag is held back until it is decided", () => {
    const scanner = new ToolBlockScanner();
    expect(scanner.push("Hello <use_")).toEqual([{ type: "text", text: "Hello " }]);
    expect(scanner.push("toolbox>")).toEqual([{ type: "text", text: "<use_toolbox>" }]);
    expect(scanner.push("<")).toEqual([]);
    expect(scanner.push("b>bold")).toEqual([{ type: "text", text: "<b>bold" }]);
  });

  test("an unclosed block at the end is released as text, never as a block", () => {
    const segments = scan("Start <use_tool><name>x</name> and the model stopped", 5);
    expect(segments.every((s) => s.type === "text")).toBe(true);
    expect(textOf(segments)).toBe("Start <use_tool><name>x</name> and the model stopped");
  });
});

const policy = (p: Partial<ToolBlockPolicy>): ToolBlockPolicy => ({ stopAfterTools: false, mode: "burst", graceMs: 300, suppressTail: false, max: 0, ...p });

/** Feeds pieces through a gate, returning what went out and the last action. */
function run(gate: ToolBlockGate, pieces: string[]): { out: string; actions: string[] } {
  let out = "";
  const actions: string[] = [];
  for (const piece of pieces) {
    const step = gate.push(piece);
    out += step.forward;
    actions.push(step.action);
    if (step.action === "stop") return { out, actions };
  }
  return { out: out + gate.end(), actions };
}

describe("ToolBlockGate", () => {
  test("no controls: everything passes, blocks are counted", () => {
    const gate = new ToolBlockGate(policy({}));
    const { out, actions } = run(gate, ["a ", BLOCK_A, " tail"]);
    expect(out).toBe(`a ${BLOCK_A} tail`);
    expect(actions).not.toContain("stop");
    expect(gate.count).toBe(1);
    expect(gate.enforcing).toBe(false);
  });

  test("suppress tail: the text after the last block is dropped, text between blocks kept", () => {
    const gate = new ToolBlockGate(policy({ suppressTail: true }));
    const { out, actions } = run(gate, ["intro ", BLOCK_A, " between ", BLOCK_B, " tail that never shows"]);
    expect(out).toBe(`intro ${BLOCK_A} between ${BLOCK_B}`);
    expect(actions.every((a) => a === "continue")).toBe(true);
  });

  test("stop-after-tools, burst: each block (re)arms the grace timer and the tail is held", () => {
    const gate = new ToolBlockGate(policy({ stopAfterTools: true }));
    expect(gate.push(`x ${BLOCK_A}`)).toEqual({ forward: `x ${BLOCK_A}`, action: "arm_grace" });
    expect(gate.push(" tail")).toEqual({ forward: "", action: "continue" });
    expect(gate.push(BLOCK_B)).toEqual({ forward: ` tail${BLOCK_B}`, action: "arm_grace" });
    expect(gate.count).toBe(2);
  });

  test("mode first: the turn stops right after the first block; later blocks in the same text are truncated", () => {
    const gate = new ToolBlockGate(policy({ mode: "first" }));
    const step = gate.push(`a ${BLOCK_A} b ${BLOCK_B}`);
    expect(step).toEqual({ forward: `a ${BLOCK_A}`, action: "stop" });
    expect(gate.count).toBe(1);
    expect(gate.truncated).toBe(true);
  });

  test("PROXY_TOOL_BLOCK_MAX: the block over the cap is dropped and stops the turn", () => {
    const gate = new ToolBlockGate(policy({ max: 1 }));
    expect(gate.enforcing).toBe(true);
    expect(gate.push(BLOCK_A).action).toBe("arm_grace");
    expect(gate.truncated).toBe(false);
    expect(gate.push(` more ${BLOCK_B}`)).toEqual({ forward: "", action: "stop" });
    expect(gate.truncated).toBe(true);
    expect(gate.count).toBe(1);
  });

  test("without any block, stop-after-tools changes nothing", () => {
    const gate = new ToolBlockGate(policy({ stopAfterTools: true, max: 2 }));
    expect(run(gate, ["plain ", "answer <b>"]).out).toBe("plain answer <b>");
    expect(gate.count).toBe(0);
  });
});
