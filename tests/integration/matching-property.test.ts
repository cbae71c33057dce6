// Model-based property test: random sequences of checkouts, settlements, partial and full refunds,
// refund failures, disputes (opened, won, lost), abandoned checkouts, and Stripe-style retries of
// earlier events with the same ids. After every step the books balance, no pledge passes its cap,
// totals equal the ledger, and (for a single 1:1 pledge) the match is exactly what the model says.
// Replaying a prefix of what was applied, or any single earlier event, changes nothing.
import { eq, sql } from 'drizzle-orm'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { endCheckout } from '#app/models/gift-events.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { valueAfterRemoval } from '#app/models/match-rules.ts'
import { verifyCampaignTotals } from '#app/models/totals.server.ts'
import { db } from '#app/utils/db.server.ts'
import { matchPledges } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { campaignTotals } from '#db/schema/matching.ts'
import { createCampaign, createCatalog, createDonation, createDonor } from '#tests/factories.ts'
import { dispute, refund, refundFacts, reinstatement, reserve, settle, withdrawal } from '#tests/gifts.ts'

type GiftModel = {
  id?: string
  amountMinor: number
  donor: number
  designationId: string
  status: 'pending' | 'succeeded' | 'expired' | 'canceled' | 'failed'
  refunds: { id: string; amountMinor: number; failed: boolean }[]
  dispute: { state: 'open' | 'won' | 'lost'; amountMinor: number; out: ReturnType<typeof withdrawal>; back?: ReturnType<typeof reinstatement> } | null
}

type Event =
  | { type: 'checkout'; gift: number }
  | { type: 'settle'; gift: number; balanceId: string }
  | { type: 'refund'; gift: number; refundId: string; amountMinor: number }
  | { type: 'refund-fail'; gift: number; refundId: string; amountMinor: number }
  | { type: 'dispute'; gift: number; status: 'needs_response' | 'won' | 'lost' }
  | { type: 'end'; gift: number; status: 'expired' | 'canceled' | 'failed' }

type Command =
  | { type: 'checkout'; amountMinor: number; donor: number; designation: number }
  | { type: 'settle' | 'refund-fail' | 'dispute-open' | 'dispute-won' | 'dispute-lost'; pick: number }
  | { type: 'refund'; pick: number; percent: number }
  | { type: 'end'; pick: number; status: 'expired' | 'canceled' | 'failed' }
  | { type: 'retry'; pick: number }

const pick = fc.nat({ max: 1_000 })
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('checkout' as const), amountMinor: fc.integer({ min: 500, max: 12_000 }), donor: fc.nat({ max: 3 }), designation: fc.nat({ max: 2 }) }) },
  { weight: 5, arbitrary: fc.record({ type: fc.constant('settle' as const), pick }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('refund' as const), pick, percent: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('refund-fail' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('dispute-open' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('dispute-won' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('dispute-lost' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('end' as const), pick, status: fc.constantFrom('expired' as const, 'canceled' as const, 'failed' as const) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('retry' as const), pick }) },
)

const configArb = fc.record({
  // One 1:1 pledge (the match is then exactly predictable), or two with other ratios and limits.
  single: fc.boolean(),
  capMinor: fc.integer({ min: 1_000, max: 30_000 }),
})

const designations = ['love-packs', 'survivor-fund', 'unrestricted']

class Run {
  gifts: GiftModel[] = []
  applied: Event[] = []
  donors: number[] = []
  seq = 0
  constructor(
    readonly runId: number,
    readonly campaignId: number,
  ) {}

  key(prefix: string) {
    return `${prefix}_${this.runId}_${++this.seq}`
  }

  removed(g: GiftModel) {
    const refunded = g.refunds.filter((r) => !r.failed).reduce((s, r) => s + r.amountMinor, 0)
    const disputed = g.dispute && g.dispute.state !== 'won' ? g.dispute.amountMinor : 0
    const lost = g.dispute?.state === 'lost' ? g.dispute.amountMinor : 0
    return { refunded, disputed, lost }
  }

  /**
   * Turns a random command into an event valid in the model's current state. A command with
   * nothing to act on yet (a refund before any gift settled) settles a pending gift instead, or
   * opens a checkout, so every sequence stays busy.
   */
  toEvent(command: Command): Event | null {
    const event = this.toExactEvent(command)
    if (event || command.type === 'retry') return event
    const p = (command as { pick: number }).pick
    return this.toExactEvent({ type: 'settle', pick: p }) ?? this.toExactEvent({ type: 'checkout', amountMinor: 500 + ((p * 97) % 11_500), donor: p % 4, designation: p % 3 })
  }

  toExactEvent(command: Command): Event | null {
    const choose = (filter: (g: GiftModel) => boolean) => {
      const candidates = this.gifts.map((g, i) => [g, i] as const).filter(([g]) => filter(g))
      return candidates.length === 0 ? null : candidates[(command as { pick: number }).pick % candidates.length]![1]
    }
    switch (command.type) {
      case 'checkout': {
        this.gifts.push({ amountMinor: command.amountMinor, donor: command.donor, designationId: designations[command.designation]!, status: 'pending', refunds: [], dispute: null })
        return { type: 'checkout', gift: this.gifts.length - 1 }
      }
      case 'settle': {
        // A late success after the checkout expired or a payment failed still settles.
        const gift = choose((g) => g.status === 'pending' || g.status === 'expired' || g.status === 'failed')
        return gift === null ? null : { type: 'settle', gift, balanceId: this.key('txn_ch') }
      }
      case 'refund': {
        const gift = choose((g) => {
          const r = this.removed(g)
          return g.status === 'succeeded' && g.dispute?.state !== 'open' && g.dispute?.state !== 'lost' && r.refunded + r.disputed < g.amountMinor
        })
        if (gift === null) return null
        const g = this.gifts[gift]!
        const left = g.amountMinor - this.removed(g).refunded
        return { type: 'refund', gift, refundId: this.key('re'), amountMinor: Math.max(1, Math.floor((left * command.percent) / 100)) }
      }
      case 'refund-fail': {
        const gift = choose((g) => g.refunds.some((r) => !r.failed))
        if (gift === null) return null
        const r = this.gifts[gift]!.refunds.find((x) => !x.failed)!
        return { type: 'refund-fail', gift, refundId: r.id, amountMinor: r.amountMinor }
      }
      case 'dispute-open': {
        const gift = choose((g) => g.status === 'succeeded' && g.dispute === null && this.removed(g).refunded < g.amountMinor)
        return gift === null ? null : { type: 'dispute', gift, status: 'needs_response' }
      }
      case 'dispute-won':
      case 'dispute-lost': {
        const gift = choose((g) => g.dispute?.state === 'open')
        return gift === null ? null : { type: 'dispute', gift, status: command.type === 'dispute-won' ? 'won' : 'lost' }
      }
      case 'end': {
        const gift = choose((g) => g.status === 'pending')
        return gift === null ? null : { type: 'end', gift, status: command.status }
      }
      case 'retry':
        return null
    }
  }

  /** Applies an event to the database; `first` also moves the model. */
  async apply(event: Event, first: boolean) {
    const g = this.gifts[event.gift]!
    switch (event.type) {
      case 'checkout': {
        if (!g.id) {
          const donation = await createDonation({ campaignId: this.campaignId, amountMinor: g.amountMinor, donorId: this.donors[g.donor], designationId: g.designationId })
          g.id = donation.id
        }
        await reserve(g.id)
        return
      }
      case 'settle':
        await settle(g.id!, g.amountMinor, { balanceId: event.balanceId })
        if (first) g.status = 'succeeded'
        return
      case 'refund':
        await refund(g.id!, refundFacts(event.refundId, event.amountMinor, { balanceId: `txn_${event.refundId}` }))
        if (first) g.refunds.push({ id: event.refundId, amountMinor: event.amountMinor, failed: false })
        return
      case 'refund-fail': {
        const facts = refundFacts(event.refundId, event.amountMinor, { balanceId: `txn_${event.refundId}`, failureBalanceId: `txn_${event.refundId}_failed` })
        await refund(g.id!, facts)
        if (first) g.refunds.find((r) => r.id === event.refundId)!.failed = true
        return
      }
      case 'dispute': {
        if (first && event.status === 'needs_response') {
          const amountMinor = g.amountMinor - this.removed(g).refunded
          g.dispute = { state: 'open', amountMinor, out: withdrawal(amountMinor, { id: this.key('txn_dp_out') }) }
        }
        const d = g.dispute!
        if (first && event.status === 'won') d.back = reinstatement(d.amountMinor, { id: this.key('txn_dp_back') })
        // Stripe's dispute object lists its balance transactions so far.
        const balances = event.status === 'won' ? [d.out, d.back!] : [d.out]
        await dispute(g.id!, { id: `dp_${this.runId}_${event.gift}`, amountMinor: d.amountMinor, status: event.status, balances })
        if (first && event.status !== 'needs_response') d.state = event.status
        return
      }
      case 'end':
        await db.transaction((tx) => endCheckout(tx, g.id!, { status: event.status, at: new Date() }))
        if (first) g.status = event.status
        return
    }
  }

  /** Whether re-applying this event is a pure replay. A checkout is our own write, made once when
   * the donation is created; calling reserveMatch again for a gift that is still pending and was
   * given nothing is a fresh quote (it may take cap freed since), so it is not replayed. */
  async replayable(event: Event) {
    if (event.type !== 'checkout') return true
    const g = this.gifts[event.gift]!
    if (g.status !== 'pending') return true
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from match_reservations where donation_id = ${g.id!}`)
    return rows[0]!.n > 0
  }
}

async function snapshot(campaignId: number) {
  const counts = await db.execute(sql`
    select (select count(*) from ledger_entries)::int as entries, (select count(*) from ledger_postings)::int as postings,
           (select count(*) from matches)::int as matches, (select count(*) from ledger_accounts)::int as accounts,
           (select string_agg(status || ':' || amount_minor, ',' order by id) from match_reservations) as reservations,
           (select string_agg(donor_id || ':' || counted_minor, ',' order by donor_id) from campaign_donors where campaign_id = ${campaignId}) as donors,
           (select string_agg(id || ':' || status, ',' order by id) from refunds) as refunds,
           (select string_agg(id || ':' || status, ',' order by id) from disputes) as disputes`)
  const [totals] = await db.select().from(campaignTotals).where(eq(campaignTotals.campaignId, campaignId))
  const pledges = await db
    .select({ id: matchPledges.id, matched: matchPledges.matchedMinor, reserved: matchPledges.reservedMinor, unlockedAt: matchPledges.unlockedAt })
    .from(matchPledges)
    .where(eq(matchPledges.campaignId, campaignId))
    .orderBy(matchPledges.id)
  const gifts = await db
    .select({
      id: donations.id, status: donations.status, counted: donations.countedMinor, shortfall: donations.matchShortfallMinor,
      refunded: donations.refundedMinor, disputed: donations.disputedMinor, lost: donations.lostDisputeMinor,
    })
    .from(donations)
    .where(eq(donations.campaignId, campaignId))
    .orderBy(donations.id)
  const { updatedAt: _ignored, ...figures } = totals!
  return { counts: counts.rows[0], totals: figures, pledges, gifts }
}

async function checkInvariants(run: Run, single: boolean, capMinor: number) {
  expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  expect(await verifyCampaignTotals(db, run.campaignId)).toEqual([])
  const pledges = await db.select().from(matchPledges).where(eq(matchPledges.campaignId, run.campaignId))
  for (const p of pledges) expect(p.matchedMinor + p.reservedMinor).toBeLessThanOrEqual(p.capMinor)
  const [totals] = await db.select().from(campaignTotals).where(eq(campaignTotals.campaignId, run.campaignId))
  // What the model says was raised: settled gifts less refunds and open or lost disputes.
  let raised = 0
  let matchable = 0
  const donorsCounting = new Set<number>()
  for (const g of run.gifts.filter((x) => x.status === 'succeeded')) {
    const r = run.removed(g)
    const counted = valueAfterRemoval(g.amountMinor, g.amountMinor, r.refunded + r.disputed)
    raised += counted
    if (counted > 0) donorsCounting.add(g.donor)
    matchable += valueAfterRemoval(g.amountMinor, g.amountMinor, r.refunded + r.lost)
  }
  expect(totals).toMatchObject({ raisedGiftsMinor: raised, donorsCount: donorsCounting.size })
  if (single) {
    // One 1:1 pledge: every cent of cap not held for a pending checkout goes to settled gifts.
    const [p] = pledges
    expect(p!.matchedMinor).toBe(Math.min(capMinor - p!.reservedMinor, matchable))
  }
}

test('any sequence of gift events, with retries, keeps the books balanced, within caps, and replays as no-ops', async () => {
  await createCatalog()
  let runs = 0
  await fc.assert(
    fc.asyncProperty(configArb, fc.array(commandArb, { minLength: 6, maxLength: 25, size: 'max' }), fc.nat(), async (config, commands, prefixSeed) => {
      const pledges = config.single
        ? [{ capMinor: config.capMinor }]
        : [
            { capMinor: config.capMinor, ratioNum: 2, partnerSlug: 'doubler' },
            { capMinor: 8_000, ratioNum: 1, ratioDen: 2, perGiftMaxMinor: 1_500, partnerSlug: 'halver' },
          ]
      const { campaign } = await createCampaign({ pledges })
      const run = new Run(++runs, campaign.id)
      for (let i = 0; i < 4; i++) run.donors.push((await createDonor()).id)

      for (const command of commands) {
        if (command.type === 'retry') {
          if (run.applied.length === 0) continue
          const event = run.applied[command.pick % run.applied.length]!
          if (!(await run.replayable(event))) continue
          const before = await snapshot(campaign.id)
          await run.apply(event, false)
          expect(await snapshot(campaign.id)).toEqual(before)
        } else {
          const event = run.toEvent(command)
          if (!event) continue
          await run.apply(event, true)
          run.applied.push(event)
        }
        await checkInvariants(run, config.single, config.capMinor)
      }

      // Replaying any prefix of what was applied changes nothing.
      const k = run.applied.length === 0 ? 0 : prefixSeed % (run.applied.length + 1)
      const before = await snapshot(campaign.id)
      for (const event of run.applied.slice(0, k)) if (await run.replayable(event)) await run.apply(event, false)
      expect(await snapshot(campaign.id)).toEqual(before)
    }),
    { numRuns: 35, seed: Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31), verbose: true },
  )
}, 120_000)
