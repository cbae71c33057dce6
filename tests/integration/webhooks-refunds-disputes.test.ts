// Money going back through the real webhook route: refunds (full, partial, pending then
// succeeded, failed) and disputes (opened, won, lost). Each asserts the refund or dispute row, the
// entry posted from Stripe's balance transaction, the match reversal, the campaign totals and a
// clean ledger:check.
import { eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { db } from '#app/utils/db.server.ts'
import { disputes, refunds } from '#db/schema/giving.ts'
import { matches } from '#db/schema/matching.ts'
import { closeDispute, failRefund, openDispute, refundCharge, refundSucceeds } from '#tests/mocks/stripe/simulate.ts'
import { getFakeObject } from '#tests/mocks/stripe/state.ts'
import { createCampaign, createCatalog } from '#tests/factories.ts'
import { donationOf, entriesOf, entryBy, expectLedgerClean, matchOf, pledgeOf, postingsOf, totalsOf } from '#tests/gifts.ts'
import { deliverQueued, giveAndPay } from '#tests/support/webhooks.ts'

async function paidGift(amountMinor = 5_000) {
  await createCatalog()
  const { campaign, pledges } = await createCampaign()
  const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor })
  return { campaign, pledge: pledges[0]!, gift, chargeId: gift.chargeId! }
}

const refundOf = (events: Stripe.Event[]) => events.find((e) => e.type === 'refund.created')!.data.object as Stripe.Refund
const disputeOf = (events: Stripe.Event[]) => events.find((e) => e.type === 'charge.dispute.created')!.data.object as Stripe.Dispute
const btOf = (id: string) => getFakeObject<Stripe.BalanceTransaction>(id)!

/**
 * ledger:check finds no error. Stripe keeps its card fee when money goes back, so a fund that bore
 * the fee of a gift it returned in full is overdrawn by that fee: finance sees that as a warning.
 */
async function expectCleanButFeeKept(feeMinor: number) {
  expect(await checkLedger(db)).toEqual([
    { severity: 'warning', check: 'restricted funds', detail: `survivor-fund at us is -${feeMinor} USD minor units overdrawn (refunds after spending)` },
  ])
}

async function matchKinds(donationId: string) {
  const rows = await db.select({ kind: matches.kind, amountMinor: matches.amountMinor }).from(matches).where(eq(matches.donationId, donationId)).orderBy(matches.id)
  return rows.map((r) => `${r.kind} ${r.amountMinor}`)
}

describe('refunds', () => {
  test('a full refund (refund.created + charge.refunded) posts once and reverses the whole match', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    const events = refundCharge(chargeId, { reason: 'requested_by_customer' })
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['refund.created', 'charge.refunded'])
    const refund = refundOf(events)

    const [row] = await db.select().from(refunds).where(eq(refunds.id, refund.id))
    expect(row).toMatchObject({ donationId: gift.donationId, amountMinor: 5_000, currency: 'USD', status: 'succeeded', balanceTransactionId: refund.balance_transaction })
    expect(await donationOf(gift.donationId)).toMatchObject({ status: 'succeeded', refundedMinor: 5_000, countedMinor: 0 })
    const entry = (await entryBy('refund', refund.balance_transaction as string))!
    // Stripe keeps its fee: the fund gives back the whole gift, Stripe's balance pays it.
    expect(await postingsOf(entry.id)).toEqual({ 'assets:stripe': -5_000, 'funds:survivor-fund:refunds': 5_000 })
    expect((await entriesOf(gift.donationId)).map((e) => e.kind)).toEqual(['gift', 'match', 'refund', 'match_reversal'])
    const reversal = (await entriesOf(gift.donationId)).find((e) => e.kind === 'match_reversal')!
    expect(await postingsOf(reversal.id)).toEqual({ 'assets:receivable:match:one-days-wages': -5_000, 'funds:survivor-fund:match': 5_000 })
    expect(await matchKinds(gift.donationId)).toEqual(['earned 5000', 'reversed -5000'])
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 0, reservedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, donorsCount: 0 })
    await expectCleanButFeeKept(175)
  })

  test('a partial refund reverses the match in proportion', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    refundCharge(chargeId, { amount: 2_000 })
    await deliverQueued('us')
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 2_000, countedMinor: 3_000 })
    expect(await matchOf(gift.donationId)).toBe(3_000)
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 3_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 3_000, matchedMinor: 3_000, donorsCount: 1 })

    // A second partial refund takes the rest.
    refundCharge(chargeId, { amount: 3_000 })
    await deliverQueued('us')
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 5_000, countedMinor: 0 })
    expect(await matchOf(gift.donationId)).toBe(0)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, donorsCount: 0 })
    expect(await db.select().from(refunds)).toHaveLength(2)
    await expectCleanButFeeKept(175)
  })

  test('a pending refund becomes succeeded on refund.updated, without a second posting', async () => {
    const { campaign, gift, chargeId } = await paidGift(5_000)
    const refund = refundOf(refundCharge(chargeId, { status: 'pending' }))
    await deliverQueued('us')
    expect(await db.select({ status: refunds.status }).from(refunds)).toEqual([{ status: 'pending' }])
    // Stripe takes the money when the refund is created, so it already counts as gone.
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0 })

    refundSucceeds(refund.id)
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['refund.updated'])
    expect(await db.select({ status: refunds.status }).from(refunds)).toEqual([{ status: 'succeeded' }])
    expect((await entriesOf(gift.donationId)).map((e) => e.kind)).toEqual(['gift', 'match', 'refund', 'match_reversal'])
    await expectCleanButFeeKept(175)
  })

  test('a refund that fails brings the money back and the gift is matched again', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    const refund = refundOf(refundCharge(chargeId))
    await deliverQueued('us')
    failRefund(refund.id)
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['refund.failed', 'refund.updated'])

    const failed = getFakeObject<Stripe.Refund>(refund.id)!
    const [row] = await db.select().from(refunds).where(eq(refunds.id, refund.id))
    expect(row).toMatchObject({ status: 'failed', failureBalanceTransactionId: failed.failure_balance_transaction })
    const back = (await entryBy('refund_failure', failed.failure_balance_transaction as string))!
    expect(await postingsOf(back.id)).toEqual({ 'assets:stripe': 5_000, 'funds:survivor-fund:refunds': -5_000 })
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 0, countedMinor: 5_000 })
    expect(await matchOf(gift.donationId)).toBe(5_000)
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 5_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 5_000, matchedMinor: 5_000, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })
})

describe('disputes', () => {
  test('an opened dispute takes the money and the dispute fee, but not the match', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    const dispute = disputeOf(openDispute(chargeId))
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn'])

    const [row] = await db.select().from(disputes).where(eq(disputes.id, dispute.id))
    expect(row).toMatchObject({ donationId: gift.donationId, amountMinor: 5_000, status: 'needs_response', closedAt: null })
    const withdrawal = dispute.balance_transactions[0]!
    expect(withdrawal).toMatchObject({ amount: -5_000, fee: 1_500 })
    const entry = (await entryBy('dispute_withdrawal', withdrawal.id))!
    expect(await postingsOf(entry.id)).toEqual({
      'assets:stripe': -6_500,
      'funds:survivor-fund:disputes': 5_000,
      'funds:unrestricted:fees': 1_500,
    })
    expect(await donationOf(gift.donationId)).toMatchObject({ disputedMinor: 5_000, lostDisputeMinor: 0, countedMinor: 0 })
    expect(await matchOf(gift.donationId)).toBe(5_000)
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 5_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 5_000 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a won dispute (funds_reinstated + closed) gives the gift back to the campaign; the fee stays spent', async () => {
    const { campaign, gift, chargeId } = await paidGift(5_000)
    const dispute = disputeOf(openDispute(chargeId))
    await deliverQueued('us')
    // Won six weeks later: the reinstatement belongs to that day's books, not the day it opened.
    const wonAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 42 * 86_400_000)
    closeDispute(dispute.id, 'won', { at: wonAt })
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['charge.dispute.funds_reinstated', 'charge.dispute.closed'])

    const [row] = await db.select().from(disputes).where(eq(disputes.id, dispute.id))
    expect(row).toMatchObject({ status: 'won', closedAt: wonAt })
    const reinstated = getFakeObject<Stripe.Dispute>(dispute.id)!.balance_transactions[1]!
    const entry = (await entryBy('dispute_reinstatement', reinstated.id))!
    expect(await postingsOf(entry.id)).toEqual({ 'assets:stripe': 5_000, 'funds:survivor-fund:disputes': -5_000 })
    expect(entry.effectiveAt).toEqual(wonAt)
    expect((await entryBy('dispute_withdrawal', getFakeObject<Stripe.Dispute>(dispute.id)!.balance_transactions[0]!.id))!.effectiveAt.getTime()).toBeLessThan(wonAt.getTime())
    expect(await donationOf(gift.donationId)).toMatchObject({ disputedMinor: 0, lostDisputeMinor: 0, countedMinor: 5_000 })
    expect(await matchOf(gift.donationId)).toBe(5_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 5_000, matchedMinor: 5_000, donorsCount: 1 })
    expect(btOf(reinstated.id).net).toBe(5_000)
    await expectLedgerClean(db, { strict: true })
  })

  test('a lost dispute reverses the match and frees the cap', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    const dispute = disputeOf(openDispute(chargeId))
    await deliverQueued('us')
    closeDispute(dispute.id, 'lost')
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['charge.dispute.closed'])

    const [row] = await db.select().from(disputes).where(eq(disputes.id, dispute.id))
    expect(row).toMatchObject({ status: 'lost', closedAt: expect.any(Date) })
    expect(await donationOf(gift.donationId)).toMatchObject({ disputedMinor: 5_000, lostDisputeMinor: 5_000, countedMinor: 0 })
    expect(await matchKinds(gift.donationId)).toEqual(['earned 5000', 'reversed -5000'])
    const reversal = (await entriesOf(gift.donationId)).find((e) => e.kind === 'match_reversal')!
    expect(await postingsOf(reversal.id)).toEqual({ 'assets:receivable:match:one-days-wages': -5_000, 'funds:survivor-fund:match': 5_000 })
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 0, reservedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, donorsCount: 0 })
    await expectCleanButFeeKept(175)
  })
})

describe('a dispute on a refunded charge', () => {
  // Cardholders dispute gifts that were already refunded (the refund had not reached their
  // statement yet); the issuer still takes the whole charge back until the dispute is decided.
  test('after a partial refund, a dispute of the whole charge takes what is left; winning gives it back', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    refundCharge(chargeId, { amount: 2_000 })
    await deliverQueued('us')
    const dispute = disputeOf(openDispute(chargeId))
    expect(dispute.amount).toBe(5_000)
    await deliverQueued('us')
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 2_000, countedMinor: 0 })
    const withdrawal = (await entryBy('dispute_withdrawal', dispute.balance_transactions[0]!.id))!
    expect(await postingsOf(withdrawal.id)).toEqual({ 'assets:stripe': -6_500, 'funds:survivor-fund:disputes': 5_000, 'funds:unrestricted:fees': 1_500 })
    expect(withdrawal.campaignValueMinor).toBe(-3_000)
    expect(await matchOf(gift.donationId)).toBe(3_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 3_000, donorsCount: 0 })

    closeDispute(dispute.id, 'won')
    await deliverQueued('us')
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 2_000, countedMinor: 3_000 })
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 3_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 3_000, matchedMinor: 3_000, donorsCount: 1 })
    expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  })

  test('after a full refund, a lost dispute takes the money twice but counts and reverses nothing twice', async () => {
    const { campaign, pledge, gift, chargeId } = await paidGift(5_000)
    refundCharge(chargeId)
    await deliverQueued('us')
    const dispute = disputeOf(openDispute(chargeId))
    closeDispute(dispute.id, 'lost')
    await deliverQueued('us')
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 5_000, countedMinor: 0 })
    expect(await matchKinds(gift.donationId)).toEqual(['earned 5000', 'reversed -5000'])
    expect(await pledgeOf(pledge.id)).toMatchObject({ matchedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, donorsCount: 0 })
    const [row] = await db.select().from(disputes).where(eq(disputes.id, dispute.id))
    expect(row).toMatchObject({ status: 'lost' })
    expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
  })
})
