// A verified Stripe event, applied at most once: its id is stored in the same transaction as
// its effects, so a redelivery changes nothing, and a failure rolls both back for Stripe to retry.
import { eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { db } from '#app/utils/db.server.ts'
import type { FiscalPartnerId } from '#app/utils/env.server.ts'
import { getStripe } from '#app/utils/stripe.server.ts'
import type { Executor } from '#db/client.ts'
import { isRetryable } from '#db/errors.ts'
import { stripeEvents } from '#db/schema/ops.ts'
import { applySnapshot } from './stripe-apply.server.ts'
import { fetchSnapshot } from './stripe-fetch.server.ts'

export type EventOutcome = 'applied' | 'ignored' | 'duplicate'

/** Stores the event; false when it was stored before (a redelivery). */
export async function recordStripeEvent(tx: Executor, fiscalPartnerId: FiscalPartnerId, event: Stripe.Event): Promise<boolean> {
  const inserted = await tx
    .insert(stripeEvents)
    .values({
      id: event.id,
      fiscalPartnerId,
      type: event.type,
      apiVersion: event.api_version,
      livemode: event.livemode,
      stripeCreatedAt: new Date(event.created * 1000),
      payload: event,
    })
    .onConflictDoNothing()
    .returning({ id: stripeEvents.id })
  return inserted.length > 0
}

export async function handleStripeEvent(fiscalPartnerId: FiscalPartnerId, event: Stripe.Event): Promise<EventOutcome> {
  // Cheap early answer for redeliveries; the insert below is what actually guarantees once.
  const [seen] = await db.select({ id: stripeEvents.id }).from(stripeEvents).where(eq(stripeEvents.id, event.id))
  if (seen) return 'duplicate'
  const snapshot = await fetchSnapshot(getStripe(fiscalPartnerId), event)
  return withRetry(() =>
    db.transaction(async (tx) => {
      if (!(await recordStripeEvent(tx, fiscalPartnerId, event))) return 'duplicate' as const
      await applySnapshot(tx, fiscalPartnerId, snapshot)
      return snapshot.kind === 'none' ? ('ignored' as const) : ('applied' as const)
    }),
  )
}

/** Serialization failures and deadlocks are retried a few times before giving up (ledger.md §3). */
export async function withRetry<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * Math.random()))
    }
  }
}
