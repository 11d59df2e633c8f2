/**
 * A strict reader for the Prometheus text exposition format (0.0.4), written from the spec
 * so tests do not trust the registry that produced the text: every line must be a HELP,
 * a TYPE, or a sample of a declared family; histograms must be cumulative and end in +Inf.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad label set: {${text}}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad sample value ${text}`);
  return value;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  let current: Family | null = null;
  for (const line of text.slice(0, -1).split("\n")) {
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (help) {
      current = { name: help[1]!, type: "untyped", help: help[2]!, samples: [] };
      if (families.has(current.name)) throw new Error(`family ${current.name} declared twice`);
      families.set(current.name, current);
    } else if (type) {
      if (!current || current.name !== type[1]) throw new Error(`TYPE without HELP: ${line}`);
      current.type = type[2]!;
    } else {
      const m = SAMPLE.exec(line);
      if (!m || !current) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
      const suffixes = current.type === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
      if (!suffixes.some((s) => m[1] === current!.name + s)) throw new Error(`sample ${m[1]} outside its family ${current.name}`);
      current.samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? ""), value: parseValue(m[3]!) });
    }
  }
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of family.samples.filter((s) => s.name.endsWith("_bucket"))) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${family.name}: bucket without le`);
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    const last = buckets.at(-1)!;
    if (last.labels.le !== "+Inf") throw new Error(`${family.name}${key}: last bucket is not +Inf`);
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key);
    if (count?.value !== last.value) throw new Error(`${family.name}${key}: _count differs from the +Inf bucket`);
  }
}

/** The value of one sample, matched on a subset of its labels; undefined when absent. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, "")) ?? families.get(name);
  return family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
