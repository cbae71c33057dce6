// Coalesces a stream of arrivals into one run once they pause: the event processor uses it so
// that applying events never competes with answering a burst of Stripe's deliveries.

export interface Lull {
  /** Notes an arrival; `run` follows once arrivals pause. */
  arrived(): void
  cancel(): void
}

/**
 * Calls `run` once no arrival has come for `quietMs`, or `maxWaitMs` after the first arrival it
 * has not yet answered, whichever is sooner: a steady stream still gets a run every `maxWaitMs`.
 */
export function afterLull(run: () => void, { quietMs, maxWaitMs }: { quietMs: number; maxWaitMs: number }): Lull {
  let first: number | null = null
  let last = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  const check = () => {
    timer = null
    if (first === null) return
    const now = Date.now()
    const quietFor = now - last
    const waited = now - first
    if (quietFor >= quietMs || waited >= maxWaitMs) {
      first = null
      run()
      return
    }
    timer = setTimeout(check, Math.min(quietMs - quietFor, maxWaitMs - waited))
  }
  return {
    arrived() {
      last = Date.now()
      first ??= last
      timer ??= setTimeout(check, quietMs)
    },
    cancel() {
      if (timer) clearTimeout(timer)
      timer = null
      first = null
    },
  }
}
