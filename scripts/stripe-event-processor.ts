// Applies stored Stripe events soon after they arrive: a LISTEN connection hears the webhook's
// NOTIFY, and once deliveries pause (a burst is answered first, decision 0208) the claimers drain
// what is due; a periodic sweep picks up retries and anything a lost connection missed, and a lost
// LISTEN connection is opened again. Several claimers run side by side; each event is claimed by
// one (SKIP LOCKED).
import pg from 'pg'
import { processStripeEvents, stripeEventChannel } from '#app/models/stripe-events.server.ts'
import { afterLull } from './after-lull.ts'

/** A lost LISTEN connection is opened again after this, doubling up to the maximum. */
const firstRelistenMs = 500
const maxRelistenMs = 30_000

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

  // While Stripe is delivering a burst, answering it comes first: the drain starts once deliveries
  // pause for quietMs, or maxWaitMs after the first, whichever is sooner.
  const lull = afterLull(wake, { quietMs, maxWaitMs })
  let listener: pg.Client | null = null
  let relistenTimer: ReturnType<typeof setTimeout> | null = null
  const openListener = async () => {
    const client = new pg.Client({ connectionString: databaseUrl })
    client.on('notification', () => lull.arrived())
    client.on('error', (error) => {
      if (!stopped) console.warn(`Stripe events: LISTEN connection lost (${error.message}); sweeping until it is back`)
    })
    try {
      await client.connect()
      await client.query(`listen ${stripeEventChannel}`)
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    }
    // A database restart or failover drops the connection: until it is open again, the sweep still
    // finds every due event, only later.
    client.once('end', () => {
      if (listener === client) listener = null
      if (!stopped) relisten(firstRelistenMs)
    })
    return client
  }
  const relisten = (delayMs: number) => {
    relistenTimer = setTimeout(() => {
      relistenTimer = null
      openListener().then(
        (client) => {
          if (stopped) return void client.end().catch(() => {})
          listener = client
          // Whatever was stored while nobody listened is due now.
          wake()
        },
        (error: unknown) => {
          if (stopped) return
          const next = Math.min(delayMs * 2, maxRelistenMs)
          console.warn(`Stripe events: LISTEN not back yet (${error instanceof Error ? error.message : String(error)}); next try in ${next / 1000} s`)
          relisten(next)
        },
      )
    }, delayMs)
  }
  listener = await openListener()
  const timer = setInterval(wake, sweepMs)
  wake()

  return {
    name: `Stripe events: applies stored events once deliveries pause (${quietMs} ms, at most ${maxWaitMs} ms; ${claimers} claimers), sweeps every ${sweepMs / 1000} s`,
    async stop() {
      stopped = true
      clearInterval(timer)
      lull.cancel()
      if (relistenTimer) clearTimeout(relistenTimer)
      await draining
      await listener?.end().catch(() => {})
    },
  }
}
