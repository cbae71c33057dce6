// Applies stored Stripe events as soon as they arrive: a LISTEN connection is woken by the
// webhook's NOTIFY, and a periodic sweep picks up retries and anything a lost connection missed.
// Several claimers run side by side; each event is claimed by one (SKIP LOCKED).
import pg from 'pg'
import { processStripeEvents, stripeEventChannel } from '#app/models/stripe-events.server.ts'

export interface StripeEventProcessor {
  name: string
  stop(): Promise<void>
}

export async function startStripeEventProcessor(options: {
  databaseUrl: string
  claimers?: number
  batch?: number
  sweepMs?: number
}): Promise<StripeEventProcessor> {
  const { databaseUrl, claimers = 2, batch = 10, sweepMs = 5_000 } = options
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
  listener.on('notification', wake)
  await listener.connect()
  await listener.query(`listen ${stripeEventChannel}`)
  const timer = setInterval(wake, sweepMs)
  wake()

  return {
    name: `Stripe events: applies each stored event on NOTIFY (${claimers} claimers), sweeps every ${sweepMs / 1000} s`,
    async stop() {
      stopped = true
      clearInterval(timer)
      await draining
      await listener.end().catch(() => {})
    },
  }
}
