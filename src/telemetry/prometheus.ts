/**
 * A small Prometheus registry: counters, gauges and histograms with fixed label names,
 * rendered in the text exposition format (version 0.0.4). Label values must come from
 * bounded sets; the callers (telemetry/metrics.ts) take care of that.
 */
export type Labels = Readonly<Record<string, string>>;

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface MetricSpec {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}

function renderLabels(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabel(values[i]!)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

abstract class Metric<Series> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { values: string[]; data: Series }>();

  constructor(spec: MetricSpec, readonly type: "counter" | "gauge" | "histogram") {
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = spec.labelNames ?? [];
  }

  protected abstract fresh(): Series;

  protected at(labels: Labels = {}): Series {
    const values = this.labelNames.map((n) => labels[n] ?? "");
    const key = values.join("\u0000");
    let entry = this.series.get(key);
    if (!entry) {
      entry = { values, data: this.fresh() };
      this.series.set(key, entry);
    }
    return entry.data;
  }

  protected abstract lines(values: string[], data: Series): string[];

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { values, data } of this.series.values()) out.push(...this.lines(values, data));
    return out.join("\n");
  }
}

class Scalar extends Metric<{ value: number }> {
  protected fresh() {
    return { value: 0 };
  }

  protected lines(values: string[], data: { value: number }): string[] {
    return [`${this.name}${renderLabels(this.labelNames, values)} ${formatValue(data.value)}`];
  }
}

export class Counter extends Scalar {
  constructor(spec: MetricSpec) {
    super(spec, "counter");
  }

  inc(labels?: Labels, by = 1): void {
    if (by < 0) throw new RangeError(`${this.name}: a counter cannot go down`);
    this.at(labels).value += by;
  }

  value(labels?: Labels): number {
    return this.at(labels).value;
  }
}

export class Gauge extends Scalar {
  constructor(spec: MetricSpec) {
    super(spec, "gauge");
  }

  set(value: number, labels?: Labels): void {
    this.at(labels).value = value;
  }
}

interface HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramSeries> {
  readonly buckets: readonly number[];

  constructor(spec: MetricSpec & { buckets: readonly number[] }) {
    super(spec, "histogram");
    this.buckets = [...spec.buckets].sort((a, b) => a - b);
  }

  protected fresh(): HistogramSeries {
    return { counts: new Array(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(value: number, labels?: Labels): void {
    const series = this.at(labels);
    let i = this.buckets.findIndex((bound) => value <= bound);
    if (i === -1) i = this.buckets.length;
    series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  protected lines(values: string[], data: HistogramSeries): string[] {
    const out: string[] = [];
    let cumulative = 0;
    [...this.buckets, Infinity].forEach((bound, i) => {
      cumulative += data.counts[i]!;
      out.push(`${this.name}_bucket${renderLabels(this.labelNames, values, ["le", formatValue(bound)])} ${cumulative}`);
    });
    const labels = renderLabels(this.labelNames, values);
    out.push(`${this.name}_sum${labels} ${formatValue(data.sum)}`, `${this.name}_count${labels} ${data.count}`);
    return out;
  }
}

interface Rendered {
  readonly name: string;
  render(): string;
}

export class Registry {
  readonly #metrics: Rendered[] = [];
  readonly #collectors: Array<() => void> = [];

  counter(spec: MetricSpec): Counter {
    return this.#add(new Counter(spec));
  }

  gauge(spec: MetricSpec): Gauge {
    return this.#add(new Gauge(spec));
  }

  histogram(spec: MetricSpec & { buckets: readonly number[] }): Histogram {
    return this.#add(new Histogram(spec));
  }

  /** Runs before every render, to read values that live elsewhere (the pool's health). */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  render(): string {
    for (const collect of this.#collectors) collect();
    return `${this.#metrics.map((m) => m.render()).join("\n")}\n`;
  }

  #add<M extends Rendered>(metric: M): M {
    if (this.#metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.#metrics.push(metric);
    return metric;
  }
}
