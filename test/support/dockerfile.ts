/**
 * A small Dockerfile reader for tests (no Docker engine here): instructions with their
 * continuation lines joined, grouped into stages, and the few argument forms we use
 * (JSON exec form, `--flag=value` options, `KEY=value` pairs) taken apart.
 */
export interface Instruction {
  keyword: string;
  /** The raw argument text after the keyword, continuations joined. */
  args: string;
}

export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    // Comment lines (parser directives included) may also sit inside a continued instruction.
    if (/^\s*#/.test(line)) continue;
    const continued = /\\\s*$/.test(line);
    current += (current ? " " : "") + line.replace(/\\\s*$/, "").trim();
    if (!continued) {
      if (current.trim()) logical.push(current.trim());
      current = "";
    }
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const entry of logical) {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(entry) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest };
    if (instruction.keyword === "FROM") {
      const [image = "", , name = null] = rest.split(/\s+/);
      stages.push({ from: expandArgs(image, args), name, instructions: [] });
    } else if (instruction.keyword === "ARG" && stages.length === 0) {
      const [name = "", value = ""] = rest.split("=");
      args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

const expandArgs = (value: string, args: Map<string, string>) =>
  value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? "");

export const instructions = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

/** `--from=build --chown=1:1 a b dest` → options and paths. */
export function copyParts(args: string): { options: Record<string, string>; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const options: Record<string, string> = {};
  while (words[0]?.startsWith("--")) {
    const [key = "", value = ""] = words.shift()!.slice(2).split("=");
    options[key] = value;
  }
  const dest = words.pop() ?? "";
  return { options, sources: words, dest };
}

/** `A=1 B="x y"` → {A: "1", B: "x y"} */
export function keyValues(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) out[match[1]!] = match[3] ?? match[2]!;
  return out;
}

/** The JSON exec form of CMD/ENTRYPOINT/HEALTHCHECK CMD, after any options. */
export function execForm(args: string): string[] {
  const start = args.indexOf("[");
  return JSON.parse(args.slice(start)) as string[];
}

/** `--interval=30s --timeout=5s CMD [...]` → the options of a HEALTHCHECK. */
export function healthcheckOptions(args: string): Record<string, string> {
  return Object.fromEntries([...args.matchAll(/--([\w-]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}
