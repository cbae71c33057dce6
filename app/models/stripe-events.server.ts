// Stripe events through an inbox. The webhook only verifies and stores the event (one INSERT, so
// Stripe gets its 200 at once and never times out behind our work); a processor then re-fetches
// what the event is about and applies it in a transaction that also marks the event processed,
// under the event row's lock. A redelivery finds the row and changes nothing; a failed apply rolls
// back and is retried with backoff, by us rather than by Stripe (decision 0207).
import { sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { databaseClock } from '#app/utils/database-clock.server.ts'
import { db } from '#app/utils/db.server.ts'
import type { FiscalPartnerId } from '#app/utils/env.server.ts'
import { getStripe } from '#app/utils/stripe.server.ts'
import { isRetryable } from '#db/errors.ts'
import { applySnapshot } from './stripe-apply.server.ts'
import { fetchSnapshot } from './stripe-fetch.server.ts'
import { runPrepared, type Statement } from './prepared.server.ts'

/** Channel the processor LISTENs on; a trigger on stripe_events NOTIFYs it (migration 0004). */
export const stripeEventChannel = 'stripe_events'
/** How long a claimed event is left to its processor before another may take it. */
const claimLeaseMs = 2 * 60_000

export type ReceiveOutcome = 'queued' | 'duplicate'
export type ProcessOutcome = 'applied' | 'ignored' | 'done-before' | 'failed'

/**
 * Stores a verified event; 'duplicate' when Stripe delivered it before. `rawBody` is the text
 * whose signature was checked, stored as it came. This is all Stripe waits for; a trigger NOTIFYs
 * the processor on commit.
 *
 * Deliveries are stored together (group commit, decision 0208): at most `maxInFlight` statements
 * run at once, and whatever arrives meanwhile waits for the next one. Idle, a delivery goes at the
 * end of its event-loop turn; under a burst the batches grow by themselves, where each delivery
 * would otherwise pay for its own round trip, the biggest cost of a webhook on a busy server. Each
 * caller still hears back only once its own row is committed.
 */
export function receiveStripeEvent(fiscalPartnerId: FiscalPartnerId, event: Stripe.Event, rawBody: string): Promise<ReceiveOutcome> {
  return new Promise((resolve, reject) => {
    gathering.push({ id: event.id, event, fiscalPartnerId, rawBody, resolve, reject })
    scheduleFlush()
  })
}

const maxInFlight = 2
let gathering: Arrival[] = []
let inFlight = 0
let flushScheduled = false

function scheduleFlush() {
  if (flushScheduled) return
  flushScheduled = true
  setImmediate(() => {
    flushScheduled = false
    if (inFlight >= maxInFlight || gathering.length === 0) return
    const batch = gathering
    gathering = []
    inFlight++
    void storeBatch(batch).finally(() => {
      inFlight--
      if (gathering.length > 0) scheduleFlush()
    })
  })
}

interface Arrival {
  id: string
  event: Stripe.Event
  fiscalPartnerId: FiscalPartnerId
  rawBody: string
  resolve(outcome: ReceiveOutcome): void
  reject(error: unknown): void
}

async function storeBatch(batch: Arrival[]): Promise<void> {
  // The same event twice in one batch (Stripe retrying while the first delivery is in flight):
  // the first is stored, any later copy is a duplicate whatever happens to the first.
  const first = new Map<string, Arrival>()
  for (const arrival of batch) {
    if (first.has(arrival.id)) arrival.resolve('duplicate')
    else first.set(arrival.id, arrival)
  }
  const unique = [...first.values()]
  try {
    const stored = await runPrepared<{ id: string }>(db, receiveStatement, [
      // Raw bodies joined into one JSON array: no escaping, no re-serialising what Stripe sent.
      `[${unique.map((a) => a.rawBody).join(',')}]`,
      // The columns come from the verified event, not from the payload in SQL: reading a field of a
      // json value decodes its strings, and one \u0000 anywhere would refuse the whole event.
      unique.map((a) => a.id),
      unique.map((a) => a.fiscalPartnerId),
      unique.map((a) => a.event.type),
      unique.map((a) => a.event.api_version ?? null),
      unique.map((a) => a.event.livemode),
      unique.map((a) => a.event.created),
    ])
    const fresh = new Set(stored.map((row) => row.id))
    for (const arrival of unique) arrival.resolve(fresh.has(arrival.id) ? 'queued' : 'duplicate')
  } catch (error) {
    // One event the database refuses (a `created` no timestamp can hold) must not fail its
    // neighbours: each is stored on its own, and only the one that fails again hears of it.
    if (unique.length === 1) unique[0]!.reject(error)
    else await Promise.all(unique.map((arrival) => storeBatch([arrival])))
  }
}

const receiveStatement: Statement = {
  name: 'lift_receive_stripe_events_v3',
  text: `insert into stripe_events (id, fiscal_partner_id, type, api_version, livemode, stripe_created_at, payload)
         select f.id, f.partner, f.type, f.api_version, f.livemode, to_timestamp(f.created), e.value
         from json_array_elements($1::json) with ordinality as e(value, n)
         join unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::float8[])
              with ordinality as f(id, partner, type, api_version, livemode, created, n) using (n)
         on conflict (id) do nothing
         returning id`,
}

type Claimed = {
  id: string
  fiscalPartnerId: FiscalPartnerId
  payload: Stripe.Event
}

/**
 * Processes up to `limit` due events (or only `ids`), oldest first; returns each one's outcome.
 * Safe to run from many processes at once: claims skip rows another processor holds.
 */
export async function processStripeEvents(options: { limit?: number; ids?: string[]; now?: Date } = {}): Promise<Map<string, ProcessOutcome>> {
  // The database's clock, not ours: next_attempt_at was set by it (to the microsecond).
  const { now, after } = databaseClock(options.now)
  const only = options.ids ? sql`and id in (${sql.join(options.ids.map((id) => sql`${id}`), sql`, `)})` : sql``
  // The claim is its own short transaction: the Stripe reads below must not hold row locks.
  const { rows } = await db.execute<Claimed>(sql`
    update stripe_events set attempts = attempts + 1, next_attempt_at = ${after(claimLeaseMs)}
    where id in (
      select id from stripe_events
      where processed_at is null and next_attempt_at <= ${now} ${only}
      order by stripe_created_at, id
      limit ${options.limit ?? 50}
      for update skip locked)
    returning id, fiscal_partner_id as "fiscalPartnerId", payload`)
  const outcomes = new Map<string, ProcessOutcome>()
  for (const event of rows) outcomes.set(event.id, await processOne(event))
  return outcomes
}

async function processOne(event: Claimed): Promise<ProcessOutcome> {
  try {
    const snapshot = await fetchSnapshot(getStripe(event.fiscalPartnerId), event.payload)
    return await withRetry(() =>
      db.transaction(async (tx) => {
        // The row lock orders this apply against any other processor whose lease ran out.
        const { rows } = await tx.execute<{ done: boolean }>(
          sql`select processed_at is not null as done from stripe_events where id = ${event.id} for update`,
        )
        if (rows[0]?.done) return 'done-before' as const
        await applySnapshot(tx, event.fiscalPartnerId, snapshot)
        const outcome = snapshot.kind === 'none' ? ('ignored' as const) : ('applied' as const)
        await tx.execute(sql`update stripe_events set processed_at = now(), outcome = ${outcome}, last_error = null where id = ${event.id}`)
        return outcome
      }),
    )
  } catch (error) {
    // First retry after 15 s, doubling to about an hour; a money event is never given up on.
    await db.execute(sql`
      update stripe_events set last_error = ${describe(error)},
        next_attempt_at = now() + make_interval(secs => 15 * least(power(2, attempts - 1), 256))
      where id = ${event.id} and processed_at is null`)
    return 'failed'
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000)
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
