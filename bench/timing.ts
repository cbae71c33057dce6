// Timing shared by the benchmarks: units of work run from k concurrent workers, each call timed.

export interface Timing {
  units: number
  seconds: number
  /** Milliseconds per call. */
  latencies: number[]
}

export const perSecond = (t: Timing) => t.units / t.seconds

export function quantile(latencies: number[], q: number) {
  const sorted = [...latencies].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0
}

/** Two measurements of the same thing (slices of one run) as one. */
export function add(a: Timing, b: Timing): Timing {
  return { units: a.units + b.units, seconds: a.seconds + b.seconds, latencies: a.latencies.concat(b.latencies) }
}

/** Runs `work(worker, i)` for every i in [from, to) from k workers at once; times each call. */
export async function runConcurrently(k: number, from: number, to: number, work: (worker: number, i: number) => Promise<void>): Promise<Timing> {
  const latencies: number[] = []
  let next = from
  const started = performance.now()
  await Promise.all(
    Array.from({ length: k }, async (_, worker) => {
      for (let i = next++; i < to; i = next++) {
        const t0 = performance.now()
        await work(worker, i)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  return { units: to - from, seconds: (performance.now() - started) / 1000, latencies }
}
