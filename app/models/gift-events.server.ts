// What happens to a gift after checkout, as facts rather than Stripe objects: it settles, is
// refunded (or the refund fails), is disputed (withdrawn, reinstated, lost), or its checkout ends
// unpaid. Each function locks the donation row first, posts to the ledger keyed by the balance
// transaction, and only moves counters when that posting is new, so replays change nothing.
import { and, eq, sql } from 'drizzle-orm'
import { convertMinor } from '#app/utils/money.ts'
import type { Executor } from '#db/client.ts'
import { campaigns, fiscalPartners } from '#db/schema/catalog.ts'
import { disputes, donations, refunds } from '#db/schema/giving.ts'
import { matchReservations } from '#db/schema/matching.ts'
import { enqueueGiftChanged, enqueueGiftThankYou } from './email-outbox.server.ts'
import { type BalanceFacts, giftEntry, postChargeAdjustment, postEntry } from './ledger.server.ts'
import { valueAfterRemoval } from './match-rules.ts'
import { lockDonationToSettle, planFastSettlement, settleFast, type Settled } from './match-settle.server.ts'
import { lockGift, lockPledges, type Gift } from './match-store.server.ts'
import { reduceMatch, restoreMatchable } from './match-retro.server.ts'
import { releaseReservations, settleMatch, unlockChallenges } from './matching.server.ts'
import { addToTotals } from './totals.server.ts'

export class GiftEventError extends Error {
  override name = 'GiftEventError'
}

async function lockDonation(tx: Executor, donationId: string) {
  const [donation] = await tx
    .select({
      donation: donations,
      campaignCurrency: campaigns.currency,
      feePolicy: fiscalPartners.feePolicy,
    })
    .from(donations)
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .innerJoin(fiscalPartners, eq(fiscalPartners.id, donations.fiscalPartnerId))
    .where(eq(donations.id, donationId))
    .for('update', { of: donations })
  if (!donation) throw new GiftEventError(`donation ${donationId} does not exist`)
  return donation
}

type Locked = Awaited<ReturnType<typeof lockDonation>>

function giftContext({ donation, feePolicy }: { donation: Pick<Locked['donation'], 'id' | 'fiscalPartnerId' | 'designationId' | 'campaignId'>; feePolicy: Locked['feePolicy'] }) {
  return {
    fiscalPartnerId: donation.fiscalPartnerId,
    designationId: donation.designationId,
    feeDesignationId: feePolicy === 'unrestricted' ? 'unrestricted' : donation.designationId,
    campaignId: donation.campaignId,
    donationId: donation.id,
  }
}

export interface SettlementFacts {
  chargeId: string
  paymentIntentId?: string | null
  invoiceId?: string | null
  /** The charge's balance transaction; exchangeRate converts charge → settlement currency. */
  balance: BalanceFacts & { exchangeRate: string | null }
  settledAt: Date
}

/**
 * The charge succeeded. Records what Stripe settled, fixes the gift's value in the campaign's
 * currency (Stripe's rate when it converted into the campaign's currency, otherwise the dated
 * table rate recorded at checkout), posts the gift, turns its reservation into a match and
 * moves the totals. A gift already settled is left alone. A late success after the checkout was
 * marked expired or failed still counts: the money arrived.
 */
export async function settleDonation(tx: Executor, donationId: string, facts: SettlementFacts): Promise<{ applied: boolean }> {
  const donation = await lockDonationToSettle(tx, donationId)
  if (!donation) throw new GiftEventError(`donation ${donationId} does not exist`)
  if (donation.balanceTransactionId) return { applied: false }
  // From here the settlement applies (or throws and rolls back), so the thank-you is queued now:
  // before the pledge locks, which are held until COMMIT (0108), and once per gift by its key.
  await enqueueGiftThankYou(tx, donationId)
  const { campaignCurrency } = donation

  const [valueMinor, rate, source] =
    donation.currency === campaignCurrency
      ? [donation.amountMinor, '1', 'identity' as const]
      : facts.balance.currency === campaignCurrency && facts.balance.exchangeRate
        ? [convertMinor(donation.amountMinor, facts.balance.exchangeRate), facts.balance.exchangeRate, 'stripe' as const]
        : [convertMinor(donation.amountMinor, donation.campaignFxRate), donation.campaignFxRate, 'table' as const]

  const settled: Settled = {
    status: 'succeeded',
    chargeId: facts.chargeId,
    paymentIntentId: facts.paymentIntentId ?? donation.paymentIntentId,
    invoiceId: facts.invoiceId ?? donation.invoiceId,
    balanceTransactionId: facts.balance.id,
    settledAmountMinor: facts.balance.amountMinor,
    settledFeeMinor: facts.balance.feeMinor,
    settledNetMinor: facts.balance.netMinor,
    settlementCurrency: facts.balance.currency,
    exchangeRate: facts.balance.exchangeRate,
    campaignAmountMinor: valueMinor,
    campaignFxRate: rate,
    campaignFxSource: source,
    countedMinor: valueMinor,
    matchShortfallMinor: 0,
    failureReason: null,
    settledAt: facts.settledAt,
    updatedAt: new Date(),
  }
  const entry = giftEntry({
    ...giftContext({ donation, feePolicy: donation.feePolicy }),
    balance: facts.balance,
    campaignValueMinor: valueMinor,
    effectiveAt: facts.settledAt,
    metadata: {
      chargeId: facts.chargeId,
      charged: { amountMinor: donation.chargedMinor, currency: donation.currency },
      donorCoveredFeeMinor: donation.feeCoveredMinor,
      exchangeRate: facts.balance.exchangeRate,
      campaignValue: { amountMinor: valueMinor, currency: campaignCurrency, rate, source },
    },
  })
  const gift: Gift = { ...donation, ...settled }

  // The common case: the gift's own rows, then one short statement under the pledge locks.
  const plan = planFastSettlement(donation.pledges, donation.holds, gift)
  if (plan && (await settleFast(tx, { gift, plan, at: facts.settledAt, settled, giftEntry: entry }))) return { applied: true }

  // The general case: per-donor maxima, challenges, caps running out, or a plan overtaken.
  await tx.update(donations).set(settled).where(eq(donations.id, donationId))
  await postEntry(tx, entry)
  await settleMatch(tx, gift, facts.settledAt)
  await addToTotals(tx, donation.campaignId, {
    raisedMinor: valueMinor,
    gifts: 1,
    donor: { id: donation.donorId, countedDeltaMinor: valueMinor },
  })
  await unlockChallenges(tx, donation.campaignId, facts.settledAt)
  return { applied: true }
}

/** The gift's value at its own rate, in settlement currency, for an amount in charge currency. */
function atGiftRate(donation: Locked['donation'], amountMinor: number) {
  return donation.exchangeRate ? convertMinor(amountMinor, donation.exchangeRate) : amountMinor
}

/**
 * Moves a settled gift's removed amounts (refunded, disputed, lost) and everything that follows
 * from them: counted value, totals, and the match when the matchable value changes.
 */
async function applyRemoval(
  tx: Executor,
  locked: Locked,
  change: { refundedMinor?: number; disputedMinor?: number; lostDisputeMinor?: number },
  cause: string,
  at: Date,
) {
  const { donation } = locked
  const next = {
    refundedMinor: donation.refundedMinor + (change.refundedMinor ?? 0),
    disputedMinor: donation.disputedMinor + (change.disputedMinor ?? 0),
    lostDisputeMinor: donation.lostDisputeMinor + (change.lostDisputeMinor ?? 0),
  }
  const value = donation.campaignAmountMinor
  const counted = valueAfterRemoval(value, donation.chargedMinor, next.refundedMinor + next.disputedMinor)
  const matchableBefore = valueAfterRemoval(value, donation.chargedMinor, donation.refundedMinor + donation.lostDisputeMinor)
  const matchableAfter = valueAfterRemoval(value, donation.chargedMinor, next.refundedMinor + next.lostDisputeMinor)
  await tx.update(donations).set({ ...next, countedMinor: counted, updatedAt: new Date() }).where(eq(donations.id, donation.id))
  Object.assign(donation, next, { countedMinor: counted })
  const gift = (await lockGift(tx, donation.id))!
  if (matchableAfter < matchableBefore) {
    await reduceMatch(tx, gift, { beforeMinor: matchableBefore, afterMinor: matchableAfter, cause, at })
  } else if (matchableAfter > matchableBefore) {
    await restoreMatchable(tx, gift, { addedMinor: matchableAfter - matchableBefore, cause, at })
  }
  return counted
}

function countedDelta(locked: Locked, change: { refundedMinor?: number; disputedMinor?: number }) {
  const { donation } = locked
  const after = valueAfterRemoval(
    donation.campaignAmountMinor,
    donation.chargedMinor,
    donation.refundedMinor + (change.refundedMinor ?? 0) + donation.disputedMinor + (change.disputedMinor ?? 0),
  )
  return after - donation.countedMinor
}

export interface RefundFacts {
  id: string
  amountMinor: number
  currency: string
  status: string
  reason: string | null
  /** Present once Stripe has taken the money back. */
  balance: BalanceFacts | null
  /** Present when a refund failed after it was booked: the money came back. */
  failureBalance: BalanceFacts | null
  at: Date
}

const refundRank: Record<string, number> = { pending: 0, requires_action: 0, succeeded: 1, failed: 2, canceled: 2 }

/** A refund, full or partial, and its failure. Each money movement is applied exactly once. */
export async function recordRefund(tx: Executor, donationId: string, refund: RefundFacts): Promise<void> {
  const locked = await lockDonation(tx, donationId)
  if (!locked.donation.balanceTransactionId) throw new GiftEventError(`donation ${donationId} is refunded before it settled`)
  // The pledges before the totals row, even when the match does not move (lock order, ledger.md §3).
  await lockPledges(tx, locked.donation.campaignId)
  const [known] = await tx.select({ status: refunds.status }).from(refunds).where(eq(refunds.id, refund.id))
  const status = known && (refundRank[known.status] ?? 0) > (refundRank[refund.status] ?? 0) ? known.status : refund.status
  await tx
    .insert(refunds)
    .values({
      id: refund.id,
      donationId,
      fiscalPartnerId: locked.donation.fiscalPartnerId,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      status,
      reason: refund.reason,
      balanceTransactionId: refund.balance?.id ?? null,
      failureBalanceTransactionId: refund.failureBalance?.id ?? null,
      createdAt: refund.at,
    })
    .onConflictDoUpdate({
      target: refunds.id,
      set: {
        status,
        balanceTransactionId: refund.balance?.id ?? null,
        failureBalanceTransactionId: refund.failureBalance?.id ?? null,
        updatedAt: new Date(),
      },
    })

  if (refund.balance) {
    const delta = countedDelta(locked, { refundedMinor: refund.amountMinor })
    const posted = await postChargeAdjustment(tx, {
      ...giftContext(locked),
      kind: 'refund',
      balance: refund.balance,
      atGiftRateMinor: atGiftRate(locked.donation, refund.amountMinor),
      campaignValueMinor: delta,
      effectiveAt: refund.at,
      metadata: { refundId: refund.id, refunded: { amountMinor: refund.amountMinor, currency: refund.currency } },
    })
    if (posted.created) {
      await applyRemoval(tx, locked, { refundedMinor: refund.amountMinor }, `refund:${refund.id}`, refund.at)
      await addToTotals(tx, locked.donation.campaignId, { raisedMinor: delta, donor: { id: locked.donation.donorId, countedDeltaMinor: delta } })
      await enqueueGiftChanged(tx, donationId, { movementId: refund.balance.id, kind: 'refund', amountMinor: refund.amountMinor, at: refund.at })
    }
  }
  if (refund.failureBalance && refund.balance) {
    const delta = countedDelta(locked, { refundedMinor: -refund.amountMinor })
    // Dated when the money came back, not when the refund was asked for: a closed month stays closed.
    const failedAt = refund.failureBalance.at ?? refund.at
    const posted = await postChargeAdjustment(tx, {
      ...giftContext(locked),
      kind: 'refund_failure',
      balance: refund.failureBalance,
      atGiftRateMinor: -atGiftRate(locked.donation, refund.amountMinor),
      campaignValueMinor: delta,
      effectiveAt: failedAt,
      metadata: { refundId: refund.id },
    })
    if (posted.created) {
      await applyRemoval(tx, locked, { refundedMinor: -refund.amountMinor }, `refund-failed:${refund.id}`, failedAt)
      await addToTotals(tx, locked.donation.campaignId, { raisedMinor: delta, donor: { id: locked.donation.donorId, countedDeltaMinor: delta } })
      await enqueueGiftChanged(tx, donationId, { movementId: refund.failureBalance.id, kind: 'refund_failure', amountMinor: refund.amountMinor, at: failedAt })
    }
  }
  await unlockChallenges(tx, locked.donation.campaignId, refund.failureBalance?.at ?? refund.at)
}

export interface DisputeFacts {
  id: string
  /** The disputed amount, in the charge's currency. */
  amountMinor: number
  currency: string
  status: string
  reason: string | null
  /** Funds withdrawn (negative amount) and reinstated (positive), in the order they happened. */
  balances: BalanceFacts[]
  at: Date
}

/**
 * A dispute takes the money when it opens (raised falls), gives it back if won (raised rises),
 * and reverses the match only when lost.
 */
export async function recordDispute(tx: Executor, donationId: string, dispute: DisputeFacts): Promise<void> {
  const locked = await lockDonation(tx, donationId)
  if (!locked.donation.balanceTransactionId) throw new GiftEventError(`donation ${donationId} is disputed before it settled`)
  // The pledges before the totals row, even when the match does not move (lock order, ledger.md §3).
  await lockPledges(tx, locked.donation.campaignId)
  const [known] = await tx.select({ status: disputes.status }).from(disputes).where(eq(disputes.id, dispute.id))
  const final = (s: string | undefined) => s === 'won' || s === 'lost'
  const status = final(known?.status) ? known!.status : dispute.status
  // Stripe's dispute carries no closing time: a won one closes with its reinstatement; otherwise it
  // is when we first saw it final. Kept from then on.
  const closedAt = final(status) ? ((status === 'won' ? dispute.balances.find((b) => b.amountMinor > 0)?.at : undefined) ?? new Date()) : null
  await tx
    .insert(disputes)
    .values({
      id: dispute.id,
      donationId,
      fiscalPartnerId: locked.donation.fiscalPartnerId,
      amountMinor: dispute.amountMinor,
      currency: dispute.currency,
      status,
      reason: dispute.reason,
      createdAt: dispute.at,
      closedAt,
    })
    .onConflictDoUpdate({ target: disputes.id, set: { status, closedAt: sql`coalesce(${disputes.closedAt}, excluded.closed_at)`, updatedAt: new Date() } })

  for (const balance of dispute.balances) {
    const withdrawn = balance.amountMinor < 0
    const change = { disputedMinor: withdrawn ? dispute.amountMinor : -dispute.amountMinor }
    const delta = countedDelta(locked, change)
    // Each movement on its own date: funds reinstated in May are May's, whenever the dispute opened.
    const movedAt = balance.at ?? dispute.at
    const kind = withdrawn ? 'dispute_withdrawal' : 'dispute_reinstatement'
    const posted = await postChargeAdjustment(tx, {
      ...giftContext(locked),
      kind,
      balance,
      atGiftRateMinor: atGiftRate(locked.donation, change.disputedMinor),
      campaignValueMinor: delta,
      effectiveAt: movedAt,
      metadata: { disputeId: dispute.id },
    })
    if (posted.created) {
      await applyRemoval(tx, locked, change, `dispute:${dispute.id}`, movedAt)
      await addToTotals(tx, locked.donation.campaignId, { raisedMinor: delta, donor: { id: locked.donation.donorId, countedDeltaMinor: delta } })
      await enqueueGiftChanged(tx, donationId, { movementId: balance.id, kind, amountMinor: dispute.amountMinor, at: movedAt })
    }
  }
  // Lost is final; the transition is seen once because the donation row is locked.
  if (status === 'lost' && known?.status !== 'lost') {
    await applyRemoval(tx, locked, { lostDisputeMinor: dispute.amountMinor }, `dispute-lost:${dispute.id}`, dispute.at)
  }
  // A won dispute gives the money back to "raised", which may reach a challenge's target.
  await unlockChallenges(tx, locked.donation.campaignId, dispute.balances.at(-1)?.at ?? dispute.at)
}

/** Paid with a delayed method (bank debit): not money yet, so hold the match longer. */
export async function markProcessing(tx: Executor, donationId: string, holdUntil: Date): Promise<void> {
  const { donation } = await lockDonation(tx, donationId)
  if (donation.status !== 'pending') return
  await tx.update(donations).set({ status: 'processing', updatedAt: new Date() }).where(eq(donations.id, donationId))
  await tx
    .update(matchReservations)
    .set({ expiresAt: holdUntil })
    .where(and(eq(matchReservations.donationId, donationId), eq(matchReservations.status, 'held')))
}

/**
 * The checkout ended without money: it expired, the payment failed, or the donor cancelled.
 * Only a gift still waiting moves; its reservation is voided and the cap freed.
 */
export async function endCheckout(
  tx: Executor,
  donationId: string,
  outcome: { status: 'expired' | 'failed' | 'canceled'; reason?: string | null; at: Date },
): Promise<{ applied: boolean }> {
  const { donation } = await lockDonation(tx, donationId)
  if (donation.status !== 'pending' && donation.status !== 'processing') return { applied: false }
  await tx
    .update(donations)
    .set({ status: outcome.status, failureReason: outcome.reason ?? null, updatedAt: new Date() })
    .where(eq(donations.id, donationId))
  await releaseReservations(tx, { donationId, status: outcome.status === 'expired' ? 'expired' : 'released', at: outcome.at })
  return { applied: true }
}
