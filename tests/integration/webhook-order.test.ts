// Stripe delivers at least once and in no particular order (stripe.md §1.4). Whatever order the
// events of a gift's life arrive in — before or after what they depend on, interleaved with what
// Stripe does next, twice — the platform must end in the same state: the same donations, match,
// ledger balances and campaign totals.
import { eq } from 'drizzle-orm'
import fc from 'fast-check'
import type Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { db } from '#app/utils/db.server.ts'
import { campaigns, matchPledges } from '#db/schema/catalog.ts'
import { closeDispute, completeCheckout, openDispute, payNextInvoice, refundCharge, refundSucceeds } from '#tests/mocks/stripe/simulate.ts'
import { accountFor, allObjects, createdOrder, signedWebhook, takeEvents } from '#tests/mocks/stripe/state.ts'
import { createCampaign, createCatalog, type PledgeOptions } from '#tests/factories.ts'
import { donationOf } from '#tests/gifts.ts'
import { deliver, post, processAllDue, startCheckout, stateSnapshot, type Gift } from '#tests/support/webhooks.ts'

const day = 86_400_000

/** What Stripe does, in the order it happens; `charges` are the gift's charges so far, oldest first. */
type Action = (ctx: { sessionId: string; charges: string[]; subscriptionId: () => string }) => void

interface Scenario {
  gift: Omit<Gift, 'campaignSlug'>
  pledges: PledgeOptions[]
  actions: Action[]
  /** The events whose order is permuted exhaustively (the rest are delivered first, in order). */
  key?: Stripe.Event['type'][]
  /** The final state every order must reach, in part. */
  expected: { donations: Record<string, unknown>[]; totals: Record<string, unknown>[] }
}

const lastRefund = () => allObjects(accountFor('us'), 'refund').sort((a, b) => createdOrder(b.id) - createdOrder(a.id))[0]!
const lastDispute = () => allObjects(accountFor('us'), 'dispute').sort((a, b) => createdOrder(b.id) - createdOrder(a.id))[0]!

/** A monthly gift: its first payment partly refunded and the rest disputed (lost); the second month paid, then partly refunded. */
const monthly: Scenario = {
  gift: { amountMinor: 2_000, frequency: 'monthly' },
  pledges: [{ capMinor: 100_000 }],
  actions: [
    ({ sessionId }) => completeCheckout(sessionId, { outcome: 'paid' }),
    ({ charges }) => refundCharge(charges[0]!, { amount: 500 }),
    ({ charges }) => openDispute(charges[0]!, { amount: 1_500 }),
    ({ subscriptionId }) => payNextInvoice(subscriptionId(), { at: new Date(Date.now() + 31 * day) }),
    () => closeDispute(lastDispute().id, 'lost'),
    ({ charges }) => refundCharge(charges[1]!, { amount: 800 }),
  ],
  key: ['checkout.session.completed', 'invoice.paid', 'refund.created', 'charge.dispute.created'],
  expected: {
    donations: [
      { installment: 1, status: 'succeeded', refunded_minor: 500, disputed_minor: 1_500, lost_dispute_minor: 1_500, counted_minor: 0, match_minor: 0 },
      { installment: 2, status: 'succeeded', refunded_minor: 800, counted_minor: 1_200, match_minor: 1_200 },
    ],
    totals: [{ raised_gifts_minor: 1_200, matched_minor: 1_200, gifts_count: 2, donors_count: 1 }],
  },
}

/** A GBP gift converted into USD, matched 1:2 (rounding): a pending refund that succeeds, then a dispute of the whole charge, won. */
const oneOff: Scenario = {
  gift: { amountMinor: 2_500, currency: 'GBP', country: 'GB', partnerChoice: 'us' },
  pledges: [{ capMinor: 100_000, ratioNum: 1, ratioDen: 2 }],
  actions: [
    ({ sessionId }) => completeCheckout(sessionId, { outcome: 'paid' }),
    ({ charges }) => refundCharge(charges[0]!, { amount: 333, status: 'pending' }),
    () => refundSucceeds(lastRefund().id),
    // The cardholder disputes the whole charge although part of it was refunded.
    ({ charges }) => openDispute(charges[0]!),
    () => closeDispute(lastDispute().id, 'won'),
  ],
  expected: {
    // £25 at Stripe's 1.27 is $31.75, matched half: $15.87. £3.33 refunded leaves 2167/2500 of the
    // value, $27.52, and the match is kept in that proportion, floored: $13.75 (decision 0103).
    donations: [{ status: 'succeeded', refunded_minor: 333, disputed_minor: 0, counted_minor: 2_752, campaign_fx_source: 'stripe', match_minor: 1_375 }],
    totals: [{ raised_gifts_minor: 2_752, matched_minor: 1_375, gifts_count: 1, donors_count: 1 }],
  },
}

/** A scenario's gift at checkout, on its own campaign; `act` makes Stripe do the next thing and returns what it would send. */
async function prepare(scenario: Scenario) {
  const { campaign } = await createCampaign({ pledges: scenario.pledges })
  // Long enough for a second month's payment to fall inside the match window.
  const endsAt = new Date(Date.now() + 120 * day)
  await db.update(campaigns).set({ endsAt }).where(eq(campaigns.id, campaign.id))
  await db.update(matchPledges).set({ endsAt }).where(eq(matchPledges.campaignId, campaign.id))
  const started = await startCheckout({ campaignSlug: campaign.slug, ...scenario.gift })
  const known = new Set(allObjects(accountFor('us'), 'charge').map((c) => c.id))
  const ctx = {
    sessionId: started.sessionId,
    charges: [] as string[],
    subscriptionId: () => allObjects(accountFor('us'), 'subscription').find((s) => s.metadata.donation_id === started.donationId)!.id,
  }
  const act = (action: Action) => {
    action(ctx)
    const fresh = allObjects(accountFor('us'), 'charge').filter((c) => !known.has(c.id))
    fresh.sort((a, b) => createdOrder(a.id) - createdOrder(b.id)).forEach((c) => (known.add(c.id), ctx.charges.push(c.id)))
    return takeEvents('us')
  }
  return { campaign, started, act }
}

/**
 * Runs a scenario on its own campaign. `tape` chooses, step by step, whether Stripe acts next or
 * which waiting event is delivered (or an earlier one redelivered); when it runs out, Stripe acts
 * and then the rest is delivered oldest first. `order` instead delivers the scenario's key events
 * in that order once Stripe has done everything.
 */
async function run(scenario: Scenario, choice: { tape?: number[]; order?: number[] }) {
  const { campaign, started, act } = await prepare(scenario)
  if (choice.order) {
    const events = scenario.actions.flatMap(act)
    const key = scenario.key!.map((type) => events.find((e) => e.type === type)!)
    await deliver(choice.order.map((i) => key[i]!), 'us')
    await deliver(events.filter((e) => !key.includes(e)), 'us')
  } else {
    const tape = choice.tape ?? []
    const pool: Stripe.Event[] = []
    const delivered: Stripe.Event[] = []
    let next = 0
    for (let step = 0; next < scenario.actions.length || pool.length > 0; step++) {
      const pick = tape[step] ?? 0
      let k = pick % ((next < scenario.actions.length ? 1 : 0) + pool.length + (delivered.length > 0 ? 1 : 0))
      if (next < scenario.actions.length) {
        if (k === 0) {
          pool.push(...act(scenario.actions[next++]!))
          continue
        }
        k--
      }
      if (k < pool.length) {
        const [event] = pool.splice(k, 1)
        await deliver([event!], 'us')
        delivered.push(event!)
      } else {
        expect(await deliver([delivered[pick % delivered.length]!], 'us')).toEqual([{ status: 200, outcome: 'duplicate' }])
      }
    }
  }
  expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  return { campaignId: campaign.id, donationId: started.donationId, state: await stateSnapshot(campaign.id) }
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]]
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]))
}

describe('any delivery order converges', () => {
  test('every order of checkout completion, invoice.paid, refund and dispute of a monthly gift', { timeout: 240_000 }, async () => {
    await createCatalog()
    const reference = await run(monthly, { tape: [] })
    expect(reference.state).toMatchObject(monthly.expected)
    for (const order of permutations(4)) {
      const { state } = await run(monthly, { order })
      expect(state, `order ${order.map((i) => monthly.key![i]).join(' → ')}`).toEqual(reference.state)
    }
  })

  test('a refund delivered before its checkout completion settles the gift first, then refunds it', async () => {
    await createCatalog()
    const { campaign } = await createCampaign()
    const started = await startCheckout({ campaignSlug: campaign.slug, amountMinor: 5_000 })
    completeCheckout(started.sessionId, { outcome: 'paid' })
    const paid = takeEvents('us')
    const charge = (paid.find((e) => e.type === 'charge.succeeded')!.data.object as Stripe.Charge).id
    refundCharge(charge, { amount: 2_000 })
    const refunded = takeEvents('us')

    await deliver(refunded, 'us')
    expect(await donationOf(started.donationId)).toMatchObject({ status: 'succeeded', refundedMinor: 2_000, countedMinor: 3_000 })
    const early = await stateSnapshot(campaign.id)
    expect(await deliver(paid, 'us')).toEqual([
      { status: 200, outcome: 'ignored' },
      { status: 200, outcome: 'ignored' },
      { status: 200, outcome: 'applied' },
    ])
    expect(await stateSnapshot(campaign.id)).toEqual(early)
    expect(early.totals).toEqual([{ raised_gifts_minor: 3_000, matched_minor: 3_000, gifts_count: 1, donors_count: 1 }])
    expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  })

  test.each([
    ['a monthly gift', monthly],
    ['a converted one-off gift', oneOff],
  ])('%s: any interleaving of what Stripe does and what it delivers, with redeliveries', { timeout: 300_000 }, async (_name, scenario) => {
    await createCatalog()
    const reference = await run(scenario, { tape: [] })
    expect(reference.state).toMatchObject(scenario.expected)
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 1_000 }), { minLength: 5, maxLength: 40 }), async (tape) => {
        const { state } = await run(scenario, { tape })
        expect(state).toEqual(reference.state)
      }),
      { numRuns: 12, endOnFailure: true },
    )
  })
})

describe('concurrent deliveries', () => {
  test("a new month's invoice.paid and its refund arriving at the same moment make one gift", async () => {
    await createCatalog()
    const { campaign } = await createCampaign()
    const gift = await startCheckout({ campaignSlug: campaign.slug, amountMinor: 2_000, frequency: 'monthly' })
    completeCheckout(gift.sessionId, { outcome: 'paid' })
    await deliver(takeEvents('us'), 'us')
    const subscription = allObjects(accountFor('us'), 'subscription')[0]!
    payNextInvoice(subscription.id, { at: new Date(Date.now() + 10 * day) })
    const paid = takeEvents('us')
    const charge = allObjects(accountFor('us'), 'charge').sort((a, b) => createdOrder(b.id) - createdOrder(a.id))[0]!
    refundCharge(charge.id, { amount: 500 })
    const events = [...paid, ...takeEvents('us')]
    expect(events.map((e) => e.type)).toEqual(['invoice.paid', 'refund.created', 'charge.refunded'])

    const responses = await Promise.all(events.map(async (event) => {
      const { body, headers } = signedWebhook(event, 'us')
      return (await post(body, headers, 'us')).status
    }))
    expect(responses).toEqual([200, 200, 200])
    await processAllDue(3)
    expect((await stateSnapshot(campaign.id)).donations).toMatchObject([
      { installment: 1, counted_minor: 2_000 },
      { installment: 2, refunded_minor: 500, counted_minor: 1_500, match_minor: 1_500 },
    ])
    expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  })

  test.each([
    ['a monthly gift', monthly],
    ['a converted one-off gift', oneOff],
  ])('%s: every event of its life delivered at once converges too', async (_name, scenario) => {
    await createCatalog()
    const reference = await run(scenario, { tape: [] })
    const { campaign, act } = await prepare(scenario)
    const events = scenario.actions.flatMap(act)
    const responses = await Promise.all(events.map(async (event) => {
      const { body, headers } = signedWebhook(event, 'us')
      return (await post(body, headers, 'us')).status
    }))
    expect(new Set(responses)).toEqual(new Set([200]))
    await processAllDue(4)
    expect(await stateSnapshot(campaign.id)).toEqual(reference.state)
    expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  })
})

