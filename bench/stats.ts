/**
 * Measuring and summarising: CPU time of batches through `process.cpuUsage()` (user +
 * system of the whole process, so work on libuv's thread pool and GC threads counts),
 * interleaved rounds so every contender sees the same machine noise, and the
 * summaries the table prints (median, p95).
 */

export interface Summary {
  median: number;
  p95: number;
  /** How many samples the summary is over. */
  samples: number;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** Nearest-rank percentile of unsorted values (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Median and p95, to 3 decimals: more than the noise allows. */
export const summarize = (values: readonly number[]): Summary => ({
  median: round3(percentile(values, 50)),
  p95: round3(percentile(values, 95)),
  samples: values.length,
});

/** One operation of a contender: the `index`-th prepared input. */
export type Operation = (index: number) => Promise<void>;

export interface BatchSample {
  /** CPU milliseconds per operation in this batch (process user + system). */
  cpuMs: number;
  /** Wall milliseconds per operation in this batch. */
  wallMs: number;
}

/** Runs operations `from .. from + size - 1` one after the other; CPU and wall time per operation. */
export async function timeBatch(operation: Operation, from: number, size: number): Promise<BatchSample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let index = from; index < from + size; index += 1) await operation(index);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / size, wallMs: wallMs / size };
}

export interface InterleavedOptions {
  /** Operations per contender run before measuring (inputs 0 .. warmup - 1). */
  warmup: number;
  rounds: number;
  /** Operations per measured batch; one sample per batch. */
  batch: number;
}

/** Inputs each contender needs: warm-up plus every measured batch. */
export const inputsNeeded = (options: InterleavedOptions): number => options.warmup + options.rounds * options.batch;

/**
 * Warms every contender up, then runs `rounds` rounds; in each, every contender runs one
 * batch, in an order rotated per round so none is always first after another. Contender
 * `name` gets inputs `warmup + round * batch ..` in round `round`: the same inputs for all.
 */
export async function interleave(contenders: Readonly<Record<string, Operation>>, options: InterleavedOptions): Promise<Record<string, BatchSample[]>> {
  const names = Object.keys(contenders);
  for (const name of names) await timeBatch(contenders[name]!, 0, options.warmup);
  const samples: Record<string, BatchSample[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (let turn = 0; turn < names.length; turn += 1) {
      const name = names[(round + turn) % names.length]!;
      samples[name]!.push(await timeBatch(contenders[name]!, options.warmup + round * options.batch, options.batch));
    }
  }
  return samples;
}

/** CPU and wall summaries of one contender's batches. */
export interface CpuFigures {
  cpuMs: Summary;
  wallMs: Summary;
}

export const figuresOf = (samples: readonly BatchSample[]): CpuFigures => ({
  cpuMs: summarize(samples.map((sample) => sample.cpuMs)),
  wallMs: summarize(samples.map((sample) => sample.wallMs)),
});
