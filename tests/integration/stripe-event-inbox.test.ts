// The Stripe event inbox: the webhook stores, the processor applies. Deliveries arriving together
// are stored by one statement, each still told whether it was new; a failed apply is kept and
// retried with backoff; a claim whose lease ran out cannot apply twice; the worker applies an
// event as soon as its NOTIFY arrives.
import { sql } from 'drizzle-orm'
import { http, HttpResponse } from 'msw'
import pg from 'pg'
import { describe, expect, test, vi } from 'vitest'
import type Stripe from 'stripe'
import { processStripeEvents, receiveStripeEvent, stripeEventChannel } from '#app/models/stripe-events.server.ts'
import { db, getDatabaseUrl } from '#app/utils/db.server.ts'
import { createCampaign, createCatalog } from '#tests/factories.ts'
import { donationOf, entriesOf } from '#tests/gifts.ts'
import { server } from '#tests/mocks/server.ts'
import { completeCheckout } from '#tests/mocks/stripe/simulate.ts'
import { accountFor, newId, queueEvent, signedWebhook, takeEvents } from '#tests/mocks/stripe/state.ts'
import { post, startCheckout } from '#tests/support/webhooks.ts'
import { startStripeEventProcessor } from '../../scripts/stripe-event-processor.ts'

/** A paid checkout whose completion has been received (stored) but not yet applied. */
async function receivedCompletion() {
  await createCatalog()
  const { campaign } = await createCampaign()
  const started = await startCheckout({ campaignSlug: campaign.slug, amountMinor: 5_000 })
  completeCheckout(started.sessionId, { outcome: 'paid' })
  const event = takeEvents('us').find((e) => e.type === 'checkout.session.completed')!
  const { body, headers } = signedWebhook(event, 'us')
  const response = await post(body, headers, 'us')
  expect(await response.json()).toEqual({ received: true, outcome: 'queued' })
  return { ...started, event }
}

/** A paid checkout whose events have been posted to the webhook: stored, waiting for the processor. */
async function paidAndPosted(campaignSlug: string) {
  const started = await startCheckout({ campaignSlug, amountMinor: 5_000 })
  completeCheckout(started.sessionId, { outcome: 'paid' })
  for (const event of takeEvents('us')) {
    const { body, headers } = signedWebhook(event, 'us')
    expect((await post(body, headers, 'us')).status).toBe(200)
  }
  return started
}

async function inboxRow(id: string) {
  const { rows } = await db.execute<{ attempts: number; processed: boolean; outcome: string | null; last_error: string | null; due_in_s: number }>(sql`
    select attempts, processed_at is not null as processed, outcome, last_error,
           round(extract(epoch from next_attempt_at - now()))::int as due_in_s
    from stripe_events where id = ${id}`)
  return rows[0]
}

/** A new event from the fake Stripe, with the raw body the webhook would have received. */
function incoming(customer: Record<string, unknown> = {}) {
  const event = queueEvent(accountFor('us'), 'customer.created', { id: newId('cus'), object: 'customer', ...customer } as unknown as Stripe.Customer)
  return { event, rawBody: signedWebhook(event, 'us').body }
}

async function storedEvents() {
  const { rows } = await db.execute<{ id: string; type: string; created: number; customer: string }>(sql`
    select id, type, extract(epoch from stripe_created_at)::int as created, payload->'data'->'object'->>'id' as customer
    from stripe_events order by id`)
  return rows
}

describe('storing deliveries that arrive together', () => {
  test('one statement stores them all; a second copy in the same batch, or of a stored event, is a duplicate', async () => {
    await createCatalog()
    const [a, b, c] = [incoming(), incoming(), incoming()]
    await receiveStripeEvent('us', c.event, c.rawBody)
    const outcomes = await Promise.all([a, b, a, c].map((e) => receiveStripeEvent('us', e.event, e.rawBody)))
    expect(outcomes).toEqual(['queued', 'queued', 'duplicate', 'duplicate'])
    const expected = [a, b, c].map(({ event }) => ({ id: event.id, type: 'customer.created', created: event.created, customer: event.data.object.id }))
    expect(await storedEvents()).toEqual(expected.sort((x, y) => (x.id < y.id ? -1 : 1)))
    // a and b were written by the same transaction: one round trip for the burst.
    const { rows } = await db.execute<{ writers: number }>(sql`select count(distinct xmin::text)::int as writers from stripe_events where id in (${a.event.id}, ${b.event.id})`)
    expect(rows[0]!.writers).toBe(1)
  })

  test('a batch wakes the processor once, however many events it stored', async () => {
    await createCatalog()
    const listener = new pg.Client({ connectionString: getDatabaseUrl() })
    await listener.connect()
    try {
      const heard: string[] = []
      listener.on('notification', (n) => heard.push(n.channel))
      await listener.query(`listen ${stripeEventChannel}`)
      const outcomes = await Promise.all([incoming(), incoming(), incoming()].map((e) => receiveStripeEvent('us', e.event, e.rawBody)))
      expect(outcomes).toEqual(['queued', 'queued', 'queued'])
      await expect.poll(() => heard.length).toBe(1)
      // A round trip on the listening connection delivers anything else already sent to it.
      await listener.query('select 1')
      expect(heard).toEqual([stripeEventChannel])
    } finally {
      await listener.end()
    }
  })

  test('an event of a few kilobytes is kept in its own row; a larger one goes out of line and reads back whole', async () => {
    await createCatalog()
    const { rows: toast } = await db.execute<{ name: string }>(sql`select reltoastrelid::regclass::text as name from pg_class where oid = 'stripe_events'::regclass`)
    const toastRows = async () => (await db.execute<{ n: number }>(sql`select count(*)::int as n from ${sql.raw(toast[0]!.name)}`)).rows[0]!.n
    const before = await toastRows()
    // Stripe's checkout.session.completed events are 3 to 6 KB.
    const typical = incoming({ description: 'x'.repeat(6_000) })
    expect(await receiveStripeEvent('us', typical.event, typical.rawBody)).toBe('queued')
    expect(await toastRows()).toBe(before)
    const large = incoming({ description: 'y'.repeat(40_000) })
    expect(await receiveStripeEvent('us', large.event, large.rawBody)).toBe('queued')
    expect(await toastRows()).toBeGreaterThan(before)
    const { rows } = await db.execute<{ id: string; payload: unknown }>(sql`select id, payload from stripe_events where id in (${typical.event.id}, ${large.event.id})`)
    expect(new Map(rows.map((r) => [r.id, r.payload]))).toEqual(new Map([typical, large].map((e) => [e.event.id, JSON.parse(e.rawBody)])))
  })

  test('the payload is the exact text Stripe signed, a NUL escape included', async () => {
    await createCatalog()
    // JSON allows \u0000 in a string; jsonb does not, and re-encodes what it takes.
    const events = [incoming({ name: 'a\u0000b' }), incoming()]
    const pretty = { ...events[1]!, rawBody: JSON.stringify(JSON.parse(events[1]!.rawBody), null, 3) }
    expect(await Promise.all([events[0]!, pretty].map((e) => receiveStripeEvent('us', e.event, e.rawBody)))).toEqual(['queued', 'queued'])
    const { rows } = await db.execute<{ id: string; text: string }>(sql`select id, payload::text as text from stripe_events`)
    expect(new Map(rows.map((r) => [r.id, r.text]))).toEqual(new Map([events[0]!, pretty].map((e) => [e.event.id, e.rawBody])))
  })

  test('an event the database refuses fails alone: the others in its batch are stored', async () => {
    await createCatalog()
    const good = [incoming(), incoming()]
    // A signed event whose creation time no PostgreSQL timestamp can hold.
    const bad = incoming()
    bad.event = { ...bad.event, created: 1e300 }
    const results = await Promise.allSettled([good[0]!, bad, good[1]!].map((e) => receiveStripeEvent('us', e.event, e.rawBody)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'queued' })
    expect((await storedEvents()).map((row) => row.id)).toEqual(good.map((e) => e.event.id).sort())
  })
})

describe('the inbox', () => {
  test('the webhook only stores: nothing is applied until the processor runs', async () => {
    const { donationId, event } = await receivedCompletion()
    expect(await donationOf(donationId)).toMatchObject({ status: 'pending' })
    expect(await inboxRow(event.id)).toMatchObject({ attempts: 0, processed: false, outcome: null })
    expect(await processStripeEvents()).toEqual(new Map([[event.id, 'applied']]))
    expect(await donationOf(donationId)).toMatchObject({ status: 'succeeded' })
    expect(await inboxRow(event.id)).toMatchObject({ attempts: 1, processed: true, outcome: 'applied', last_error: null })
    // Nothing is due any more.
    expect(await processStripeEvents()).toEqual(new Map())
  })

  test('a failed apply writes nothing, keeps the event with its error, and is retried after a backoff', async () => {
    const { donationId, event } = await receivedCompletion()
    server.use(http.get('https://api.stripe.com/v1/checkout/sessions/:id', () => HttpResponse.json(
      { error: { type: 'api_error', message: 'Stripe is having a moment' } }, { status: 500 },
    )))
    expect(await processStripeEvents()).toEqual(new Map([[event.id, 'failed']]))
    expect(await donationOf(donationId)).toMatchObject({ status: 'pending' })
    expect(await entriesOf(donationId)).toEqual([])
    const failed = await inboxRow(event.id)
    expect(failed).toMatchObject({ attempts: 1, processed: false, last_error: expect.stringContaining('Stripe is having a moment') })
    expect(failed!.due_in_s).toBeGreaterThanOrEqual(14)
    expect(failed!.due_in_s).toBeLessThanOrEqual(15)
    // Not due yet; once due (and Stripe is back) it applies.
    expect(await processStripeEvents()).toEqual(new Map())
    server.resetHandlers()
    expect(await processStripeEvents({ now: new Date(Date.now() + 16_000) })).toEqual(new Map([[event.id, 'applied']]))
    expect(await donationOf(donationId)).toMatchObject({ status: 'succeeded' })
    expect(await inboxRow(event.id)).toMatchObject({ attempts: 2, processed: true, last_error: null })
  })

  test('a claim whose lease ran out is taken again, and the event still applies once', async () => {
    const { donationId, event } = await receivedCompletion()
    // A processor claims the event and stalls; after the lease another claims it and applies it.
    await db.execute(sql`update stripe_events set attempts = 1, next_attempt_at = now() - interval '1 second' where id = ${event.id}`)
    expect(await processStripeEvents()).toEqual(new Map([[event.id, 'applied']]))
    // The stalled processor comes back and finds the work done.
    await db.execute(sql`update stripe_events set next_attempt_at = now() - interval '1 second' where id = ${event.id}`)
    expect(await processStripeEvents({ ids: [event.id] })).toEqual(new Map())
    expect((await entriesOf(donationId)).filter((e) => e.kind === 'gift')).toHaveLength(1)
  })

  test('two processors racing for the same due events apply each exactly once', async () => {
    const { donationId } = await receivedCompletion()
    const outcomes = await Promise.all([processStripeEvents(), processStripeEvents(), processStripeEvents()])
    expect(outcomes.flatMap((m) => [...m.values()])).toEqual(['applied'])
    expect((await entriesOf(donationId)).filter((e) => e.kind === 'gift')).toHaveLength(1)
  })

  test('the worker applies a stored event on its NOTIFY, without waiting for the sweep', async () => {
    await createCatalog()
    const { campaign } = await createCampaign()
    const processor = await startStripeEventProcessor({ databaseUrl: getDatabaseUrl(), sweepMs: 60_000 })
    try {
      const started = await paidAndPosted(campaign.slug)
      await expect.poll(async () => (await donationOf(started.donationId)).status, { timeout: 5_000 }).toBe('succeeded')
    } finally {
      await processor.stop()
    }
  })
  test('a lost LISTEN connection is opened again, and NOTIFY applies events as before', async () => {
    await createCatalog()
    const { campaign } = await createCampaign()
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const processor = await startStripeEventProcessor({ databaseUrl: getDatabaseUrl(), sweepMs: 60_000 })
    const listenerPids = async () =>
      (await db.execute<{ pid: number }>(sql`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`)).rows.map((r) => r.pid)
    try {
      const [first] = await listenerPids()
      expect(first).toBeDefined()
      // What a database restart or failover does to the connection.
      await db.execute(sql`select pg_terminate_backend(${first})`)
      await expect.poll(async () => (await listenerPids()).filter((pid) => pid !== first).length, { timeout: 5_000 }).toBe(1)
      expect(await listenerPids()).not.toContain(first)
      expect(warned).toHaveBeenCalledWith(expect.stringContaining('LISTEN connection lost'))
      // Stored after the new connection's catch-up drain: only its NOTIFY can apply it before the sweep.
      const started = await paidAndPosted(campaign.slug)
      await expect.poll(async () => (await donationOf(started.donationId)).status, { timeout: 5_000 }).toBe('succeeded')
    } finally {
      await processor.stop()
      warned.mockRestore()
    }
  })
})
