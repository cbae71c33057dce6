// Payments through the real webhook route: a card gift paid at once, a bank debit that confirms or
// fails days later, an abandoned checkout, payouts. Each asserts what finance reads afterwards:
// the donation's settlement facts, its ledger entries, the match, the campaign totals, and a clean
// ledger:check.
import { eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { releaseExpiredReservations } from '#app/models/matching.server.ts'
import { applySnapshot } from '#app/models/stripe-apply.server.ts'
import { db } from '#app/utils/db.server.ts'
import { getStripe } from '#app/utils/stripe.server.ts'
import { donations } from '#db/schema/giving.ts'
import { matchReservations } from '#db/schema/matching.ts'
import { payouts } from '#db/schema/ops.ts'
import { completeCheckout, createPayout, expireCheckout, openDispute, payNextInvoice, refundCharge, settleAsyncPayment } from '#tests/mocks/stripe/simulate.ts'
import { getFakeObject, takeEvents } from '#tests/mocks/stripe/state.ts'
import { createCampaign, createCatalog } from '#tests/factories.ts'
import { donationOf, entriesOf, entryBy, expectLedgerClean, matchOf, pledgeOf, postingsOf, totalsOf } from '#tests/gifts.ts'
import { accountBalances, balanceOf, deliver, deliverQueued, giveAndPay, startCheckout, stripeIdsOf } from '#tests/support/webhooks.ts'

async function campaign(options: Parameters<typeof createCampaign>[0] = {}) {
  await createCatalog()
  return createCampaign(options)
}

async function holdsOf(donationId: string) {
  return db.select().from(matchReservations).where(eq(matchReservations.donationId, donationId))
}

describe('checkout.session.completed', () => {
  test('a card gift paid at once settles with the balance transaction, fee as its own posting, and its match', async () => {
    const { campaign: c, pledges } = await campaign()
    const gift = await giveAndPay({ campaignSlug: c.slug, amountMinor: 5_000 })
    expect(gift.events.map((e) => e.type)).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed'])

    const bt = balanceOf(gift.chargeId!)
    const donation = await donationOf(gift.donationId)
    expect(donation).toMatchObject({
      status: 'succeeded',
      chargeId: gift.chargeId,
      balanceTransactionId: bt.id,
      settledAmountMinor: 5_000,
      settledFeeMinor: bt.fee,
      settledNetMinor: 5_000 - bt.fee,
      settlementCurrency: 'USD',
      exchangeRate: null,
      campaignAmountMinor: 5_000,
      countedMinor: 5_000,
    })
    expect(bt.fee).toBe(175) // 2.9% + 30¢

    const giftEntry = (await entryBy('gift', bt.id))!
    expect(await postingsOf(giftEntry.id)).toEqual({
      'assets:stripe': 4_825,
      'funds:survivor-fund:fees': 175,
      'funds:survivor-fund:gifts': -5_000,
    })
    expect((await entriesOf(gift.donationId)).map((e) => e.kind)).toEqual(['gift', 'match'])
    expect(await matchOf(gift.donationId)).toBe(5_000)
    expect(await holdsOf(gift.donationId)).toEqual([expect.objectContaining({ status: 'converted' })])
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 5_000, reservedMinor: 0 })
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 5_000, matchedMinor: 5_000, giftsCount: 1, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a donor who covers the fee is charged more, but only the gift counts toward the campaign', async () => {
    const { campaign: c } = await campaign()
    const gift = await giveAndPay({ campaignSlug: c.slug, amountMinor: 10_000, coverFee: true })
    const donation = await donationOf(gift.donationId)
    const bt = balanceOf(gift.chargeId!)
    expect(donation.feeCoveredMinor).toBeGreaterThan(0)
    expect(donation).toMatchObject({ chargedMinor: 10_000 + donation.feeCoveredMinor, settledAmountMinor: donation.chargedMinor, countedMinor: 10_000 })
    expect(await postingsOf((await entryBy('gift', bt.id))!.id)).toEqual({
      'assets:stripe': bt.net,
      'funds:survivor-fund:fees': bt.fee,
      'funds:survivor-fund:gifts': -donation.chargedMinor,
    })
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 10_000, matchedMinor: 10_000 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a bank debit is pending until async_payment_succeeded, with the match still held', async () => {
    const { campaign: c, pledges } = await campaign()
    const started = await startCheckout({ campaignSlug: c.slug, amountMinor: 7_500 })
    completeCheckout(started.sessionId, { outcome: 'processing' })
    const completed = await deliverQueued('us')
    expect(completed.map((e) => e.type)).toEqual(['checkout.session.completed'])

    const processing = await donationOf(started.donationId)
    expect(processing).toMatchObject({ status: 'processing', balanceTransactionId: null, countedMinor: 0 })
    const [hold] = await holdsOf(started.donationId)
    expect(hold).toMatchObject({ status: 'held', amountMinor: 7_500 })
    // The bank debit takes days, so the hold is extended well past the checkout's 31 minutes.
    expect(hold!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 7 * 86_400_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 0, reservedMinor: 7_500 })
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, giftsCount: 0 })
    await expectLedgerClean(db, { strict: true })

    settleAsyncPayment(started.sessionId, true)
    expect((await deliverQueued('us')).map((e) => e.type)).toContain('checkout.session.async_payment_succeeded')
    const { chargeId } = stripeIdsOf(started.sessionId)
    const bt = balanceOf(chargeId!)
    expect(await donationOf(started.donationId)).toMatchObject({ status: 'succeeded', balanceTransactionId: bt.id, settledFeeMinor: bt.fee, countedMinor: 7_500 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 7_500, reservedMinor: 0 })
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 7_500, matchedMinor: 7_500, giftsCount: 1, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a bank debit that fails (async_payment_failed) releases the match and posts nothing', async () => {
    const { campaign: c, pledges } = await campaign()
    const started = await startCheckout({ campaignSlug: c.slug, amountMinor: 7_500 })
    completeCheckout(started.sessionId, { outcome: 'processing' })
    await deliverQueued('us')
    settleAsyncPayment(started.sessionId, false)
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['payment_intent.payment_failed', 'checkout.session.async_payment_failed'])

    expect(await donationOf(started.donationId)).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('declined'), countedMinor: 0 })
    expect(await holdsOf(started.donationId)).toEqual([expect.objectContaining({ status: 'released' })])
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 0, reservedMinor: 0 })
    expect(await entriesOf(started.donationId)).toEqual([])
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, giftsCount: 0, donorsCount: 0 })
    await expectLedgerClean(db, { strict: true })
  })
})

describe('checkout.session.expired', () => {
  test('releases the match reservation so the cap is free for someone else', async () => {
    const { campaign: c, pledges } = await campaign({ pledges: [{ capMinor: 10_000 }] })
    const abandoned = await startCheckout({ campaignSlug: c.slug, amountMinor: 10_000 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 10_000 })

    expireCheckout(abandoned.sessionId)
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['checkout.session.expired'])
    expect(await donationOf(abandoned.donationId)).toMatchObject({ status: 'expired', countedMinor: 0 })
    expect(await holdsOf(abandoned.donationId)).toEqual([expect.objectContaining({ status: 'expired' })])
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 0, reservedMinor: 0 })

    const next = await giveAndPay({ campaignSlug: c.slug, amountMinor: 10_000 })
    expect(await matchOf(next.donationId)).toBe(10_000)
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 10_000, matchedMinor: 10_000, giftsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })
})

describe('payouts', () => {
  test('payout.paid moves the net of the gifts from Stripe to the bank and records the payout', async () => {
    const { campaign: c } = await campaign()
    const one = await giveAndPay({ campaignSlug: c.slug, amountMinor: 5_000 })
    const two = await giveAndPay({ campaignSlug: c.slug, amountMinor: 2_500 })
    const net = balanceOf(one.chargeId!).net + balanceOf(two.chargeId!).net

    const [paid] = createPayout({ fiscalPartnerId: 'us', status: 'paid' })
    await deliver([paid!], 'us')
    const payout = paid!.data.object as Stripe.Payout
    const [row] = await db.select().from(payouts).where(eq(payouts.id, payout.id))
    expect(row).toMatchObject({ fiscalPartnerId: 'us', amountMinor: net, currency: 'USD', status: 'paid', failureBalanceTransactionId: null })
    const entry = (await entryBy('payout', row!.balanceTransactionId!))!
    expect(await postingsOf(entry.id)).toEqual({ 'assets:bank': net, 'assets:stripe': -net })
    expect(await accountBalances()).toMatchObject({ 'us USD assets:bank': net })
    expect((await accountBalances())['us USD assets:stripe']).toBeUndefined()
    await expectLedgerClean(db, { strict: true })
  })

  test('payout.failed records the failure: the money goes out and comes back', async () => {
    const { campaign: c } = await campaign()
    const gift = await giveAndPay({ campaignSlug: c.slug, amountMinor: 5_000 })
    const net = balanceOf(gift.chargeId!).net
    const [failed] = createPayout({ fiscalPartnerId: 'us', status: 'failed' })
    await deliver([failed!], 'us')
    const payout = getFakeObject<Stripe.Payout>((failed!.data.object as Stripe.Payout).id)!
    const [row] = await db.select().from(payouts).where(eq(payouts.id, payout.id))
    expect(row).toMatchObject({ status: 'failed', amountMinor: net, failureBalanceTransactionId: payout.failure_balance_transaction as string })
    expect(row!.failureCode).toBeTruthy()
    const out = (await entryBy('payout', row!.balanceTransactionId!))!
    const back = (await entryBy('payout_failure', row!.failureBalanceTransactionId!))!
    expect(await postingsOf(out.id)).toEqual({ 'assets:bank': net, 'assets:stripe': -net })
    expect(await postingsOf(back.id)).toEqual({ 'assets:bank': -net, 'assets:stripe': net })
    expect(await accountBalances()).toMatchObject({ 'us USD assets:stripe': net })
    expect((await accountBalances())['us USD assets:bank']).toBeUndefined()
    await expectLedgerClean(db, { strict: true })
  })

  test('a stale snapshot of a payout, applied after its failure, does not take the failure back', async () => {
    const { campaign: c } = await campaign()
    await giveAndPay({ campaignSlug: c.slug, amountMinor: 5_000 })
    const [failed] = createPayout({ fiscalPartnerId: 'us', status: 'failed' })
    await deliver([failed!], 'us')
    const payout = getFakeObject<Stripe.Payout>((failed!.data.object as Stripe.Payout).id)!
    // Re-fetched by another event's processing while the payout was still on its way.
    const earlier = { ...payout, status: 'in_transit', failure_balance_transaction: null, failure_code: null } as Stripe.Payout
    await db.transaction((tx) => applySnapshot(tx, 'us', { kind: 'payout', payout: earlier }))
    const [row] = await db.select().from(payouts).where(eq(payouts.id, payout.id))
    expect(row).toMatchObject({ status: 'failed', failureBalanceTransactionId: payout.failure_balance_transaction as string, failureCode: payout.failure_code })
    await expectLedgerClean(db, { strict: true })
  })

  test('after gifts, refunds and disputes, a payout of everything leaves nothing in Stripe: every balance transaction was posted', async () => {
    const { campaign: c } = await campaign()
    const one = await giveAndPay({ campaignSlug: c.slug, amountMinor: 5_000 })
    const two = await giveAndPay({ campaignSlug: c.slug, amountMinor: 8_000, coverFee: true })
    await giveAndPay({ campaignSlug: c.slug, amountMinor: 12_000, currency: 'GBP', country: 'GB', partnerChoice: 'us' })
    refundCharge(one.chargeId!, { amount: 1_000 })
    openDispute(two.chargeId!)
    await deliverQueued('us')
    const [paid] = createPayout({ fiscalPartnerId: 'us', status: 'paid' })
    await deliver([paid!], 'us')
    const payout = paid!.data.object as Stripe.Payout
    const balances = await accountBalances()
    expect(balances['us USD assets:stripe']).toBeUndefined()
    expect(balances['us USD assets:bank']).toBe(payout.amount)
    await expectLedgerClean(db)
  })

  test("a charge this platform did not create is parked in suspense with its refund, never dropped", async () => {
    await campaign()
    const stripe = getStripe('us')
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 4_000, product_data: { name: 'Paid through another tool' } } }],
      success_url: 'https://example.org/thanks',
      expires_at: Math.floor(Date.now() / 1000) + 3_600,
    })
    completeCheckout(session.id, { outcome: 'paid' })
    const { chargeId } = stripeIdsOf(session.id)
    refundCharge(chargeId!, { amount: 1_500 })
    await deliverQueued('us')
    const charge = balanceOf(chargeId!)
    const refund = getFakeObject<Stripe.BalanceTransaction>(
      (await getStripe('us').refunds.list({ charge: chargeId! })).data[0]!.balance_transaction as string,
    )!
    expect(await accountBalances()).toEqual({
      'us USD assets:stripe': charge.net + refund.net,
      'us USD suspense': -(charge.net + refund.net),
    })
    expect(await checkLedger(db)).toEqual([
      { severity: 'warning', check: 'suspense', detail: `us USD: ${-(charge.net + refund.net)} minor units not yet attributed` },
    ])
  })
})

describe('money this platform did not ask for still reaches the books', () => {
  test('a paid checkout made by another tool on the account is parked in suspense, once, without a refund to reveal it', async () => {
    await campaign()
    const session = await getStripe('us').checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 2_500, product_data: { name: 'A payment link' } } }],
      success_url: 'https://example.org/thanks',
      expires_at: Math.floor(Date.now() / 1000) + 3_600,
    })
    const events = completeCheckout(session.id, { outcome: 'paid' })
    await deliverQueued('us')
    // Delivered again: each a duplicate in the inbox, and the books unchanged.
    await deliver(events, 'us')
    const net = balanceOf(stripeIdsOf(session.id).chargeId!).net
    expect(await accountBalances()).toEqual({ 'us USD assets:stripe': net, 'us USD suspense': -net })
  })

  test('a charge naming a donation this install does not have (another site on the same account) is parked in suspense', async () => {
    await campaign()
    const session = await getStripe('us').checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 3_000, product_data: { name: 'A gift on the staging site' } } }],
      payment_intent_data: { metadata: { donation_id: '00000000-0000-4000-8000-000000000000' } },
      success_url: 'https://staging.example.org/thanks',
      expires_at: Math.floor(Date.now() / 1000) + 3_600,
    })
    completeCheckout(session.id, { outcome: 'paid' })
    const delivered = await deliver(takeEvents('us'), 'us')
    expect(delivered.every((d) => d.status === 200)).toBe(true)
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from stripe_events where processed_at is null`)
    expect(rows[0]!.n).toBe(0)
    const net = balanceOf(stripeIdsOf(session.id).chargeId!).net
    expect(await accountBalances()).toEqual({ 'us USD assets:stripe': net, 'us USD suspense': -net })
  })

  test('each payment of a subscription made outside the platform is parked in suspense', async () => {
    await campaign()
    const session = await getStripe('us').checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 1_000, recurring: { interval: 'month' }, product_data: { name: 'Dashboard plan' } } }],
      success_url: 'https://example.org/thanks',
      expires_at: Math.floor(Date.now() / 1000) + 3_600,
    })
    completeCheckout(session.id, { outcome: 'paid' })
    await deliverQueued('us')
    const { subscriptionId } = stripeIdsOf(session.id)
    payNextInvoice(subscriptionId!, { at: new Date(Date.now() + 31 * 86_400_000) })
    await deliverQueued('us')
    // Two payments, each $10.00 less 2.9% + 30¢, and nothing posted anywhere else.
    expect(await accountBalances()).toEqual({ 'us USD assets:stripe': 2 * (1_000 - 59), 'us USD suspense': -2 * (1_000 - 59) })
    const { rows } = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from ledger_postings p join ledger_accounts a on a.id = p.account_id where a.path = 'suspense'`,
    )
    expect(rows[0]!.n).toBe(2)
    expect(await db.select().from(donations)).toEqual([])
    await expectLedgerClean(db)
  })
})

describe('a bank debit that confirms after its hold ran out', () => {
  test('is matched from what cap remains, and the rest later when cap frees up', async () => {
    const { campaign: c, pledges } = await campaign({ pledges: [{ capMinor: 10_000 }] })
    const slow = await startCheckout({ campaignSlug: c.slug, amountMinor: 7_500 })
    completeCheckout(slow.sessionId, { outcome: 'processing' })
    await deliverQueued('us')
    // Eleven days on, the sweeper voids the hold (it was kept ten days), and another donor takes the cap.
    expect(await releaseExpiredReservations(db, new Date(Date.now() + 11 * 86_400_000))).toBe(1)
    const quick = await giveAndPay({ campaignSlug: c.slug, amountMinor: 5_000 })
    expect(await matchOf(quick.donationId)).toBe(5_000)

    settleAsyncPayment(slow.sessionId, true)
    await deliverQueued('us')
    expect(await donationOf(slow.donationId)).toMatchObject({ status: 'succeeded', countedMinor: 7_500, matchShortfallMinor: 2_500 })
    expect(await matchOf(slow.donationId)).toBe(5_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 10_000, reservedMinor: 0 })

    // The other gift is refunded: its freed cap goes to the gift left short.
    refundCharge(quick.chargeId!)
    await deliverQueued('us')
    expect(await matchOf(quick.donationId)).toBe(0)
    expect(await matchOf(slow.donationId)).toBe(7_500)
    expect(await donationOf(slow.donationId)).toMatchObject({ matchShortfallMinor: 0 })
    expect(await totalsOf(c.id)).toMatchObject({ raisedGiftsMinor: 7_500, matchedMinor: 7_500, giftsCount: 2, donorsCount: 1 })
    await expectLedgerClean(db)
  })
})

