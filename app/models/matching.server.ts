// The matching engine (DESIGN.md "Matching", ledger.md §3): a match reservation is a pending
// transfer against a pledge's cap, taken at checkout, posted when the gift settles, voided when
// the checkout ends without paying; challenges unlock and pledges close here too. Reversal by
// refunds and lost disputes, and matching freed cap to earlier gifts, is match-retro.server.ts;
// the common case of settlement in one short locked statement is match-settle.server.ts.
//
// Lock order, everywhere: the gift's donation row → the campaign's pledges in priority order
// (lockPledges) → per-donor counters → the campaign totals row. One exception: a checkout that
// voids expired holds runs the catch-up pass (which ends on the totals row) before it takes its
// own donor's counter; every path that takes either holds the campaign's pledges first, so the
// pledge locks keep them in turn. Every function here that moves a pledge's matched amount also
// moves the campaign's matched total, in the same transaction.
import { and, eq, inArray, lt, sql } from 'drizzle-orm'
import type { Db, Executor } from '#db/client.ts'
import { campaigns, matchPledges } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { campaignTotals, matchReservations } from '#db/schema/matching.ts'
import {
  allocateMatch,
  isLocked,
  unlockReached,
  type AllocationResult,
  type Limit,
  type PledgeState,
} from './match-rules.ts'
import { giftTerms, money, settlementNote } from './match-settle.server.ts'
import { matchRetrospectively, offerToWaitingPage, type WaitingCursor } from './match-retro.server.ts'
import {
  capRoom,
  hasFreeCap,
  lockGift,
  lockPledges,
  movePledge,
  pledgeStates,
  readPledges,
  recordEarnedMatch,
  recordMatch,
  setShortfall,
  type Gift,
  type Pledge,
} from './match-store.server.ts'
import { addToTotals } from './totals.server.ts'

export class MatchingError extends Error {
  override name = 'MatchingError'
}

export interface QuoteLine {
  pledgeId: number
  partnerName: string
  amountMinor: number
  limitedBy: Limit
}

export interface MatchQuote {
  currency: string
  giftValueMinor: number
  lines: QuoteLine[]
  totalMatchMinor: number
  /** The whole gift is matched as far as the pledges' ratios go. */
  fullyMatched: boolean
  /** Challenge pledges that will match this gift only if the campaign reaches their target. */
  challenges: { partnerName: string; unlockMinRaisedMinor: number | null; unlockMinDonors: number | null }[]
  expiresAt: Date | null
}

function quote(pledges: Pledge[], result: AllocationResult, valueMinor: number, expiresAt: Date | null): MatchQuote {
  const byId = new Map(pledges.map((p) => [p.id, p]))
  const lines = result.allocations.map((a) => ({
    pledgeId: a.pledgeId,
    partnerName: byId.get(a.pledgeId)!.partnerName,
    amountMinor: a.amountMinor,
    limitedBy: a.limitedBy,
  }))
  return {
    currency: pledges[0]?.currency ?? '',
    giftValueMinor: valueMinor,
    lines,
    totalMatchMinor: lines.reduce((sum, l) => sum + l.amountMinor, 0),
    fullyMatched: lines.length > 0 && result.unmatchedPortionMinor === 0,
    challenges: result.skipped
      .filter((s) => s.reason === 'locked')
      .map((s) => byId.get(s.pledgeId)!)
      .map((p) => ({ partnerName: p.partnerName, unlockMinRaisedMinor: p.unlockMinRaisedMinor, unlockMinDonors: p.unlockMinDonors })),
    expiresAt,
  }
}


/** Voids these pledges' reservations held past `now` (all of them when `now` is null). */
async function expireStale(tx: Executor, pledges: Pledge[], now: Date | null): Promise<boolean> {
  const expired = await tx
    .update(matchReservations)
    .set({ status: 'expired', resolvedAt: now ?? new Date() })
    .where(
      and(
        inArray(matchReservations.pledgeId, pledges.map((p) => p.id)),
        eq(matchReservations.status, 'held'),
        now ? lt(matchReservations.expiresAt, now) : undefined,
      ),
    )
    .returning({ pledgeId: matchReservations.pledgeId, donorId: matchReservations.donorId, amountMinor: matchReservations.amountMinor })
  for (const row of expired) {
    await movePledge(tx, pledges.find((p) => p.id === row.pledgeId)!, row.donorId, { reservedMinor: -row.amountMinor })
  }
  return expired.length > 0
}

/**
 * Reserves the match a pending gift would earn, until `expiresAt`. Concurrent checkouts near the
 * cap queue on the pledge rows, so none can reserve what another already holds. Calling it again
 * for the same gift returns what is already reserved.
 */
export async function reserveMatch(
  tx: Executor,
  { donationId, expiresAt, now = new Date() }: { donationId: string; expiresAt: Date; now?: Date },
): Promise<MatchQuote> {
  const gift = await lockGift(tx, donationId)
  if (!gift) throw new MatchingError(`donation ${donationId} does not exist`)
  const pledges = await lockPledges(tx, gift.campaignId)
  const existing = await tx
    .select({ pledgeId: matchReservations.pledgeId, amountMinor: matchReservations.amountMinor, portionMinor: matchReservations.portionMinor, expiresAt: matchReservations.expiresAt })
    .from(matchReservations)
    .where(eq(matchReservations.donationId, donationId))
  if (existing.length > 0 || gift.status !== 'pending') {
    const allocations = existing.map((r) => ({ pledgeId: r.pledgeId, amountMinor: r.amountMinor, portionMinor: r.portionMinor, limitedBy: 'none' as const }))
    const covered = allocations.reduce((sum, a) => sum + a.portionMinor, 0)
    return quote(pledges, { allocations, skipped: [], unmatchedPortionMinor: gift.campaignAmountMinor - covered, shortfallMinor: 0 }, gift.campaignAmountMinor, existing[0]?.expiresAt ?? null)
  }
  let result = allocateMatch(await pledgeStates(tx, pledges, gift), giftTerms(gift), gift.campaignAmountMinor)
  // Only when the cap is what stops us is it worth voiding abandoned checkouts' holds first. The
  // cap they free goes to gifts already paid and left waiting, oldest first, before this checkout.
  if (result.shortfallMinor > 0 && (await expireStale(tx, pledges, now))) {
    await matchRetrospectively(tx, pledges, { campaignId: gift.campaignId, cause: `reserve:${donationId}`, at: now })
    result = allocateMatch(await pledgeStates(tx, pledges, gift), giftTerms(gift), gift.campaignAmountMinor)
  }
  for (const allocation of result.allocations) {
    const pledge = pledges.find((p) => p.id === allocation.pledgeId)!
    await tx.insert(matchReservations).values({
      pledgeId: pledge.id,
      donationId,
      donorId: gift.donorId,
      amountMinor: allocation.amountMinor,
      portionMinor: allocation.portionMinor,
      expiresAt,
      createdAt: now,
    })
    await movePledge(tx, pledge, gift.donorId, { reservedMinor: allocation.amountMinor })
  }
  return quote(pledges, result, gift.campaignAmountMinor, expiresAt)
}

/** What a gift of this value would be matched now, without reserving anything. */
export async function previewMatch(
  exec: Executor,
  gift: Omit<Gift, 'id' | 'status' | 'chargedMinor' | 'refundedMinor' | 'lostDisputeMinor' | 'matchShortfallMinor' | 'settledAt'>,
): Promise<MatchQuote> {
  const pledges = await readPledges(exec, gift.campaignId)
  const states = pledges.map<PledgeState>((p) => ({ terms: p, availableMinor: capRoom(p), giftMatchedMinor: 0, donorRoomMinor: null }))
  return quote(pledges, allocateMatch(states, giftTerms(gift as Gift), gift.campaignAmountMinor), gift.campaignAmountMinor, null)
}

/**
 * A gift has settled at `valueMinor` (campaign currency): turn its reservations into matches,
 * recomputed from the settled value. A reservation that expired meanwhile no longer holds cap,
 * so the gift is matched from whatever remains, and the note says so. The caller holds the gift's
 * row lock (settlement does).
 */
export async function settleMatch(tx: Executor, gift: Gift, at: Date): Promise<number> {
  const pledges = await lockPledges(tx, gift.campaignId)
  if (pledges.length === 0) return 0
  const reservations = await tx
    .select({ pledgeId: matchReservations.pledgeId, amountMinor: matchReservations.amountMinor, status: matchReservations.status })
    .from(matchReservations)
    .where(eq(matchReservations.donationId, gift.id))
  const held = new Map(reservations.filter((r) => r.status === 'held').map((r) => [r.pledgeId, r.amountMinor]))
  const result = allocateMatch(await pledgeStates(tx, pledges, gift, held), giftTerms(gift), gift.campaignAmountMinor)
  if (held.size > 0) {
    await tx
      .update(matchReservations)
      .set({ status: 'converted', resolvedAt: at })
      .where(and(eq(matchReservations.donationId, gift.id), eq(matchReservations.status, 'held')))
    for (const [pledgeId, amountMinor] of held) {
      await movePledge(tx, pledges.find((p) => p.id === pledgeId)!, gift.donorId, { reservedMinor: -amountMinor })
    }
  }
  let matched = 0
  for (const allocation of result.allocations) {
    const pledge = pledges.find((p) => p.id === allocation.pledgeId)!
    await recordEarnedMatch(tx, {
      gift,
      pledge,
      allocation,
      sourceKey: `settle:${gift.id}`,
      note: settlementNote(pledge, allocation, reservations.find((r) => r.pledgeId === pledge.id)),
      at,
    })
    matched += allocation.amountMinor
  }
  await setShortfall(tx, gift.id, result.shortfallMinor)
  await addToTotals(tx, gift.campaignId, { matchedMinor: matched })
  // A hold larger than the match it became (the gift settled at a lower rate than quoted) frees
  // cap like a released hold does: gifts left short may have it.
  const taken = (pledgeId: number) => result.allocations.find((a) => a.pledgeId === pledgeId)?.amountMinor ?? 0
  if ([...held].some(([pledgeId, amount]) => taken(pledgeId) < amount)) {
    await matchRetrospectively(tx, pledges, { campaignId: gift.campaignId, cause: `settle:${gift.id}`, at })
  }
  return matched
}


/**
 * The checkout ended without paying (expired, failed, cancelled): void what it held, and let the
 * freed cap match earlier gifts that were left short.
 */
export async function releaseReservations(
  tx: Executor,
  { donationId, status, at = new Date(), onlyExpiredBy }: { donationId: string; status: 'released' | 'expired'; at?: Date; onlyExpiredBy?: Date },
): Promise<void> {
  const gift = await lockGift(tx, donationId)
  if (!gift) throw new MatchingError(`donation ${donationId} does not exist`)
  const pledges = await lockPledges(tx, gift.campaignId)
  const voided = await tx
    .update(matchReservations)
    .set({ status, resolvedAt: at })
    .where(
      and(
        eq(matchReservations.donationId, donationId),
        eq(matchReservations.status, 'held'),
        // The sweeper read the hold as overdue before taking the gift's lock; a bank debit that
        // started processing meanwhile has extended it, and that extension must win.
        onlyExpiredBy ? lt(matchReservations.expiresAt, onlyExpiredBy) : undefined,
      ),
    )
    .returning({ pledgeId: matchReservations.pledgeId, amountMinor: matchReservations.amountMinor })
  for (const row of voided) {
    await movePledge(tx, pledges.find((p) => p.id === row.pledgeId)!, gift.donorId, { reservedMinor: -row.amountMinor })
  }
  if (voided.length > 0) await matchRetrospectively(tx, pledges, { campaignId: gift.campaignId, cause: `${status}:${donationId}`, at })
}

/** The sweeper: voids every reservation past its hold, a gift at a time. Returns how many gifts. */
export async function releaseExpiredReservations(
  db: { transaction: Executor['transaction'] },
  now = new Date(),
  batch = 100,
): Promise<number> {
  const due = await db.transaction((tx) =>
    tx
      .selectDistinct({ donationId: matchReservations.donationId })
      .from(matchReservations)
      .where(and(eq(matchReservations.status, 'held'), lt(matchReservations.expiresAt, now)))
      .limit(batch),
  )
  for (const { donationId } of due) {
    await db.transaction((tx) => releaseReservations(tx, { donationId, status: 'expired', at: now, onlyExpiredBy: now }))
  }
  return due.length
}

/**
 * Offers free cap to paid gifts still waiting for it. The catch-up pass runs whenever cap frees,
 * but it skips a gift another transaction holds at that moment rather than wait for it, and cap
 * can also grow (a partner raises its pledge): the sweeper runs this, so a gift passed over once
 * is offered the cap again within a sweep. The pledges are read without locks first: a campaign
 * whose waiting gifts have no free cap to hope for (the usual case) takes no lock at all. Unlike
 * the catch-up pass that runs where cap frees (one page of 200), it walks every page.
 */
export async function offerFreeCap(db: Db, at = new Date()): Promise<number> {
  const waiting = await db
    .selectDistinct({ campaignId: donations.campaignId })
    .from(donations)
    .where(and(eq(donations.status, 'succeeded'), sql`${donations.matchShortfallMinor} > 0`))
  let matched = 0
  for (const { campaignId } of waiting) {
    if (!(await readPledges(db, campaignId)).some(hasFreeCap)) continue
    // Every page, each in its own short transaction, so no waiting gift is out of reach.
    let after: WaitingCursor | undefined
    do {
      const page = await db.transaction(async (tx) =>
        offerToWaitingPage(tx, await lockPledges(tx, campaignId), { campaignId, cause: `sweep:${at.toISOString()}`, at, after }),
      )
      matched += page.matched
      after = page.next ?? undefined
    } while (after)
  }
  return matched
}

/** After totals move: unlock challenge pledges whose target is now met and match what waited. */
export async function unlockChallenges(tx: Executor, campaignId: number, at: Date): Promise<void> {
  const pledges = await lockPledges(tx, campaignId)
  if (!pledges.some(isLocked)) return
  const [totals] = await tx
    .select({ raisedGiftsMinor: campaignTotals.raisedGiftsMinor, donorsCount: campaignTotals.donorsCount })
    .from(campaignTotals)
    .where(eq(campaignTotals.campaignId, campaignId))
  let unlocked = false
  for (const pledge of pledges.filter(isLocked)) {
    if (!totals || !unlockReached(pledge, totals)) continue
    await tx.update(matchPledges).set({ unlockedAt: at }).where(eq(matchPledges.id, pledge.id))
    pledge.unlockedAt = at
    unlocked = true
  }
  if (unlocked) await matchRetrospectively(tx, pledges, { campaignId, cause: `unlock:${at.toISOString()}`, at })
}

/**
 * Closes a pledge after its window: voids holds, gives remaining cap to gifts left short, then
 * applies the leftover policy — 'return' releases the rest to the partner, 'donate' books it as
 * the partner's unmatched gift to the campaign's default designation. A challenge that never
 * unlocked was never owed: its cap goes back to the partner whatever the policy says.
 */
export async function closePledge(tx: Executor, { pledgeId, at }: { pledgeId: number; at: Date }): Promise<{ leftoverMinor: number }> {
  const [row] = await tx
    .select({ campaignId: matchPledges.campaignId, designationId: campaigns.defaultDesignationId })
    .from(matchPledges)
    .innerJoin(campaigns, eq(campaigns.id, matchPledges.campaignId))
    .where(eq(matchPledges.id, pledgeId))
  if (!row) throw new MatchingError(`pledge ${pledgeId} does not exist`)
  const pledges = await lockPledges(tx, row.campaignId)
  const pledge = pledges.find((p) => p.id === pledgeId)!
  if (pledge.closedAt) return { leftoverMinor: pledge.leftoverMinor ?? 0 }
  await expireStale(tx, [pledge], null)
  // The leftover is fixed at close, so every waiting gift the cap can serve is served first, not
  // only one pass's 200: passes repeat while they match something and cap remains.
  while (hasFreeCap(pledge) && (await matchRetrospectively(tx, pledges, { campaignId: row.campaignId, cause: `close:${pledgeId}`, at })) > 0) {
    // each pass takes the oldest gifts still waiting
  }
  const leftover = capRoom(pledge)
  if (pledge.leftoverPolicy === 'donate' && leftover > 0 && !isLocked(pledge)) {
    await recordMatch(tx, {
      pledge,
      kind: 'leftover',
      donationId: null,
      donorId: null,
      designationId: row.designationId,
      amountMinor: leftover,
      portionMinor: 0,
      sourceKey: 'leftover',
      note: `${pledge.partnerName} gave the ${money(leftover, pledge.currency)} left of its cap unmatched, as its pledge's policy says.`,
      at,
    })
    await addToTotals(tx, row.campaignId, { matchedMinor: leftover })
  }
  await tx.update(matchPledges).set({ closedAt: at, leftoverMinor: leftover }).where(eq(matchPledges.id, pledgeId))
  return { leftoverMinor: leftover }
}
