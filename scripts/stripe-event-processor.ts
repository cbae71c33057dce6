// Applies stored Stripe events soon after they arrive: a LISTEN connection hears the webhook's
// NOTIFY, and once deliveries pause (a burst is answered first, decision 0208) the claimers drain
// what is due; a periodic sweep picks up retries and anything a lost connection missed. Several
// claimers run side by side; each event is claimed by one (SKIP LOCKED).
import pg from 'pg'
import { processStripeEvents, stripeEventChannel } from '#app/models/stripe-events.server.ts'
import { afterLull } from './after-lull.ts'

export interface StripeEventProcessor {
  name: string
  stop(): Promise<void>
}

export async function startStripeEventProcessor(options: {
  databaseUrl: string
  claimers?: number
  batch?: number
  sweepMs?: number
  /** Deliveries paused this long: apply what arrived. */
  quietMs?: number
  /** Under a stream that does not pause, apply at least this often. */
  maxWaitMs?: number
}): Promise<StripeEventProcessor> {
  const { databaseUrl, claimers = 2, batch = 10, sweepMs = 5_000, quietMs = 50, maxWaitMs = 1_000 } = options
  let stopped = false
  let again = false
  let draining: Promise<void> | null = null

  const claimUntilEmpty = async () => {
    for (;;) {
      const outcomes = await processStripeEvents({ limit: batch })
      const failed = [...outcomes].filter(([, outcome]) => outcome === 'failed').map(([id]) => id)
      if (failed.length > 0) console.warn(`Stripe events: ${failed.join(', ')} failed; retried with backoff (stripe_events.last_error)`)
      if (outcomes.size < batch || stopped) return
    }
  }
  // One drain at a time; a wake-up during a drain runs another right after it.
  const wake = () => {
    if (stopped) return
    if (draining) {
      again = true
      return
    }
    draining = (async () => {
      do {
        again = false
        await Promise.all(Array.from({ length: claimers }, claimUntilEmpty))
      } while (again && !stopped)
    })()
      .catch((error: unknown) => console.error('Stripe events: processing failed:', error))
      .finally(() => {
        draining = null
      })
  }

  const listener = new pg.Client({ connectionString: databaseUrl })
  // A dropped LISTEN connection only costs latency: the sweep still finds every due event.
  listener.on('error', (error) => console.warn('Stripe events: LISTEN connection lost, sweeping only:', error.message))
  // While Stripe is delivering a burst, answering it comes first: the drain starts once deliveries
  // pause for quietMs, or maxWaitMs after the first, whichever is sooner.
  const lull = afterLull(wake, { quietMs, maxWaitMs })
  listener.on('notification', () => lull.arrived())
  await listener.connect()
  await listener.query(`listen ${stripeEventChannel}`)
  const timer = setInterval(wake, sweepMs)
  wake()

  return {
    name: `Stripe events: applies stored events once deliveries pause (${quietMs} ms, at most ${maxWaitMs} ms; ${claimers} claimers), sweeps every ${sweepMs / 1000} s`,
    async stop() {
      stopped = true
      clearInterval(timer)
      lull.cancel()
      await draining
      await listener.end().catch(() => {})
    },
  }
}
