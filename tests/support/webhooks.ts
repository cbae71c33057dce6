// Gifts driven end to end the way production sees them: a checkout created by createCheckout (the
// match reserved, the session made at the fake Stripe), Stripe's side simulated, and every event
// Stripe would send delivered, signed, through the real webhook route's action. Snapshots read back
// what donors, partners and finance would see, so tests can compare whole states.
import { sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { expect } from 'vitest'
import { createCheckout, type CheckoutRequest } from '#app/models/checkout.server.ts'
import { processStripeEvents, type ReceiveOutcome } from '#app/models/stripe-events.server.ts'
import { action } from '#app/routes/webhooks.stripe.$partner.ts'
import { db } from '#app/utils/db.server.ts'
import type { FiscalPartnerId } from '#app/utils/env.server.ts'
import { completeCheckout } from '#tests/mocks/stripe/simulate.ts'
import { getFakeObject, signedWebhook, takeEvents } from '#tests/mocks/stripe/state.ts'
import { donationOf } from '#tests/gifts.ts'

export type Gift = Partial<Omit<CheckoutRequest, 'campaignSlug'>> & { campaignSlug: string }

/** A one-off $50 gift from a US donor (an address of their own) to the live campaign, as the form builds it. */
export function checkoutRequest(overrides: Partial<CheckoutRequest> = {}): CheckoutRequest {
  return {
    campaignSlug: 'aftercare-thailand',
    amountMinor: 5_000,
    currency: 'USD',
    frequency: 'one_off',
    designationId: 'survivor-fund',
    coverFee: false,
    tribute: null,
    anonymous: false,
    name: 'Ada Lovelace',
    email: `donor-${Math.random().toString(36).slice(2, 10)}@example.org`,
    country: 'US',
    partnerChoice: 'auto',
    giftAid: null,
    ...overrides,
  }
}

/** A checkout as the donate form would create it; throws unless it was created. */
export async function startCheckout(gift: Gift) {
  const result = await createCheckout(checkoutRequest(gift))
  if (!result.ok) throw new Error(`checkout was refused: ${result.error}`)
  const donation = await donationOf(result.donationId)
  return { donationId: result.donationId, sessionId: donation.checkoutSessionId!, fiscalPartnerId: donation.fiscalPartnerId as FiscalPartnerId }
}

export interface Delivery {
  status: number
  outcome?: string
}

/** POSTs a signed event to /webhooks/stripe/<partner>, as Stripe would. */
export async function post(body: string, headers: Record<string, string>, partner: string): Promise<Response> {
  const request = new Request(`http://localhost:3000/webhooks/stripe/${partner}`, { method: 'POST', body, headers })
  return action({ request, params: { partner }, context: { clientIp: '127.0.0.1' } })
}

/**
 * Delivers each event through the route, then runs the event processor on it as the worker
 * would on NOTIFY; every one must be accepted and applied (or ignored, or found a duplicate).
 */
export async function deliver(events: Stripe.Event[], partner: FiscalPartnerId): Promise<Delivery[]> {
  const results: Delivery[] = []
  for (const event of events) {
    const { body, headers } = signedWebhook(event, partner)
    const response = await post(body, headers, partner)
    const text = await response.text()
    expect(response.status, `${event.type}: ${text}`).toBe(200)
    const received = (JSON.parse(text) as { outcome: ReceiveOutcome }).outcome
    const outcome = received === 'queued' ? (await processStripeEvents({ ids: [event.id] })).get(event.id) : received
    if (outcome === 'failed') expect.fail(`${event.type} ${event.id} failed: ${await lastErrorOf(event.id)}`)
    results.push({ status: response.status, outcome })
  }
  return results
}

/** Runs the event processor as the worker does, with several claimers at once, until nothing is due. */
export async function processAllDue(claimers = 1): Promise<void> {
  const claim = async () => {
    for (;;) {
      const outcomes = await processStripeEvents({ limit: 5 })
      for (const [id, outcome] of outcomes) if (outcome === 'failed') expect.fail(`event ${id} failed: ${await lastErrorOf(id)}`)
      if (outcomes.size === 0) return
    }
  }
  await Promise.all(Array.from({ length: claimers }, claim))
}

async function lastErrorOf(eventId: string): Promise<string | null> {
  const { rows } = await db.execute<{ last_error: string | null }>(sql`select last_error from stripe_events where id = ${eventId}`)
  return rows[0]?.last_error ?? null
}

/** Delivers whatever the fake Stripe has queued for this partner, oldest first. */
export async function deliverQueued(partner: FiscalPartnerId): Promise<Stripe.Event[]> {
  const events = takeEvents(partner)
  await deliver(events, partner)
  return events
}

/** Creates a checkout, pays it at Stripe and delivers the events; returns the ids a test needs. */
export async function giveAndPay(gift: Gift) {
  const started = await startCheckout(gift)
  completeCheckout(started.sessionId, { outcome: 'paid', country: gift.country ?? 'US' })
  const events = await deliverQueued(started.fiscalPartnerId)
  return { ...started, events, ...stripeIdsOf(started.sessionId) }
}

/** The charge, intent and subscription behind a session at the fake Stripe. */
export function stripeIdsOf(sessionId: string) {
  const session = getFakeObject<Stripe.Checkout.Session>(sessionId)!
  const intentId = session.payment_intent as string | null
  const intent = intentId ? getFakeObject<Stripe.PaymentIntent>(intentId) : undefined
  return {
    chargeId: (intent?.latest_charge as string | null) ?? null,
    subscriptionId: (session.subscription as string | null) ?? null,
    invoiceId: (session.invoice as string | null) ?? null,
  }
}

export function balanceOf(chargeId: string): Stripe.BalanceTransaction {
  const charge = getFakeObject<Stripe.Charge>(chargeId)!
  return getFakeObject<Stripe.BalanceTransaction>(charge.balance_transaction as string)!
}

// ---------------------------------------------------------------------------------------------
// Reading the state back

/** Balances per (fiscal partner, currency, account path), leaving out the ones at zero. */
export async function accountBalances(): Promise<Record<string, number>> {
  const { rows } = await db.execute<{ key: string; balance: number }>(sql`
    select a.fiscal_partner_id || ' ' || a.currency || ' ' || a.path as key, sum(p.amount_minor)::int8 as balance
    from ledger_postings p join ledger_accounts a on a.id = p.account_id
    group by 1 having sum(p.amount_minor) <> 0 order by 1`)
  return Object.fromEntries(rows.map((r) => [r.key, Number(r.balance)]))
}

/**
 * Everything a person could see about the platform's money (one campaign's, or all of it), free
 * of ids and timestamps that differ between two runs of the same story: donations in instalment
 * order, plans, pledges, totals, account balances, and how many entries of each kind.
 */
export async function stateSnapshot(campaignId?: number) {
  const only = (column: string) => (campaignId === undefined ? sql`true` : sql`${sql.raw(column)} = ${campaignId}`)
  const donations = await db.execute(sql`
    select installment, status, amount_minor, charged_minor, currency, refunded_minor, disputed_minor, lost_dispute_minor,
      counted_minor, match_shortfall_minor, settled_amount_minor, settled_fee_minor, settled_net_minor, settlement_currency,
      exchange_rate, campaign_amount_minor, campaign_fx_rate, campaign_fx_source,
      (select coalesce(sum(amount_minor), 0)::int8 from matches m where m.donation_id = d.id) as match_minor,
      (select string_agg(status || ' ' || amount_minor, ',' order by status, amount_minor) from refunds r where r.donation_id = d.id) as refunds,
      (select string_agg(status || ' ' || amount_minor, ',' order by status, amount_minor) from disputes x where x.donation_id = d.id) as disputes
    from donations d where ${only('d.campaign_id')} order by recurring_plan_id nulls first, installment, amount_minor, id`)
  const plans = await db.execute(sql`select status, failed_payment_count from recurring_plans where ${only('campaign_id')} order by id`)
  const pledges = await db.execute(sql`
    select priority, cap_minor, matched_minor, reserved_minor from match_pledges where ${only('campaign_id')} order by campaign_id, priority`)
  const totals = await db.execute(sql`
    select raised_gifts_minor, matched_minor, gifts_count, donors_count from campaign_totals where ${only('campaign_id')} order by campaign_id`)
  const entries = await db.execute(sql`
    select kind, count(*)::int as n from ledger_entries where ${only('campaign_id')} group by kind order by kind`)
  const balances = await db.execute<{ key: string; balance: number }>(sql`
    select a.fiscal_partner_id || ' ' || a.currency || ' ' || a.path as key, sum(p.amount_minor)::int8 as balance
    from ledger_postings p join ledger_accounts a on a.id = p.account_id join ledger_entries e on e.id = p.entry_id
    where ${only('e.campaign_id')} group by 1 having sum(p.amount_minor) <> 0 order by 1`)
  return {
    donations: donations.rows.map(stripDecimals),
    plans: plans.rows,
    pledges: pledges.rows,
    totals: totals.rows,
    balances: Object.fromEntries(balances.rows.map((r) => [r.key, Number(r.balance)])),
    entries: entries.rows,
  }
}

/** pg returns int8 as strings and numerics with trailing zeros; compare them as numbers. */
function stripDecimals(row: Record<string, unknown>) {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v]),
  )
}
