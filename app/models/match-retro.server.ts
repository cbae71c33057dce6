// Reversal and retrospective matching (ledger.md §3 "reverse"): a refund or lost dispute reverses
// a gift's match in proportion to the value it lost, a refund that fails restores it, and any cap
// that frees up goes to settled gifts left short, oldest first. Every function here moves the
// campaign's matched total with the pledges, in the same transaction, and expects the caller to
// hold the gift's donation row (lock order: donation → pledges → per-donor counters → totals).
import { and, eq, sql } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'
import { donations } from '#db/schema/giving.ts'
import { allocateMatch, proportionalKeep } from './match-rules.ts'
import { giftTerms, money } from './match-settle.server.ts'
import { couldUseFreeCap, giftColumns, giftMatches, hasFreeCap, lockPledges, pledgeStates, recordEarnedMatch, recordMatch, setShortfall, type Gift, type Pledge } from './match-store.server.ts'
import { addToTotals } from './totals.server.ts'

/**
 * A gift's matchable value fell (a refund, a lost dispute): reverse each pledge's match on it in
 * proportion, then offer the freed cap to gifts left short. `cause` keys the rows (idempotent).
 */
export async function reduceMatch(
  tx: Executor,
  gift: Gift,
  { beforeMinor, afterMinor, cause, at }: { beforeMinor: number; afterMinor: number; cause: string; at: Date },
): Promise<void> {
  if (afterMinor >= beforeMinor) return
  const pledges = await lockPledges(tx, gift.campaignId)
  const held = await giftMatches(tx, gift.id)
  let reversed = 0
  // The part of the gift's value its matches still stand for, after the reversals below.
  let coveredAfter = [...held.values()].reduce((sum, h) => sum + Math.max(0, h.portionMinor), 0)
  for (const pledge of pledges) {
    const current = held.get(pledge.id)
    if (!current || current.amountMinor <= 0) continue
    const amount = current.amountMinor - proportionalKeep(current.amountMinor, beforeMinor, afterMinor)
    const portion = current.portionMinor - proportionalKeep(current.portionMinor, beforeMinor, afterMinor)
    if (amount <= 0) continue
    const written = await recordMatch(tx, {
      pledge,
      kind: 'reversed',
      donationId: gift.id,
      donorId: gift.donorId,
      designationId: gift.designationId,
      amountMinor: -amount,
      portionMinor: -portion,
      sourceKey: `${cause}:${gift.id}`,
      note: `Reversed ${money(amount, pledge.currency)} of ${pledge.partnerName}'s match: ${cause.split(':')[0]} took the gift's matchable value from ${money(beforeMinor, pledge.currency)} to ${money(afterMinor, pledge.currency)}.`,
      at,
    })
    if (written) {
      reversed += amount
      coveredAfter -= portion
    }
  }
  // A gift that was waiting for cap may still earn its value less what its matches stand for.
  // (Scaling the shortfall by itself would floor twice and lose a cent the gift is owed.)
  await setShortfall(tx, gift.id, gift.matchShortfallMinor > 0 ? Math.max(0, afterMinor - coveredAfter) : 0)
  await addToTotals(tx, gift.campaignId, { matchedMinor: -reversed })
  await matchRetrospectively(tx, pledges, { campaignId: gift.campaignId, cause, at })
}

/** A gift's matchable value rose again (a refund that failed): it may be matched again, by age. */
export async function restoreMatchable(
  tx: Executor,
  gift: Gift,
  { addedMinor, cause, at }: { addedMinor: number; cause: string; at: Date },
): Promise<void> {
  if (addedMinor <= 0) return
  const pledges = await lockPledges(tx, gift.campaignId)
  await setShortfall(tx, gift.id, gift.matchShortfallMinor + addedMinor)
  await matchRetrospectively(tx, pledges, { campaignId: gift.campaignId, cause, at })
}

/**
 * Offers free cap to settled gifts left short that a pledge with room covers, oldest first, one
 * page of 200 (the sweeper walks the rest). Gifts another transaction is changing
 * right now are skipped (SKIP LOCKED) rather than waited for, which would invert the lock order;
 * the sweeper offers them cap again later.
 */
export async function matchRetrospectively(
  tx: Executor,
  pledges: Pledge[],
  options: { campaignId: number; cause: string; at: Date },
): Promise<number> {
  return (await offerToWaitingPage(tx, pledges, options)).matched
}

/** Where a page of waiting gifts ended: the last gift's settlement time (as PostgreSQL wrote it) and id. */
export interface WaitingCursor {
  settledAt: string
  id: string
}

const pageSize = 200

/**
 * One page of `matchRetrospectively`, from `after` on. `next` is where the following page starts,
 * when this one was full and cap remains: a gift short on one pledge's cap may also have been
 * refused by another pledge's per-gift or per-donor maximum, and pages of those would otherwise
 * hide newer gifts the free cap could serve. The sweeper (offerFreeCap) walks every page.
 */
export async function offerToWaitingPage(
  tx: Executor,
  pledges: Pledge[],
  { campaignId, cause, at, after }: { campaignId: number; cause: string; at: Date; after?: WaitingCursor },
): Promise<{ matched: number; next: WaitingCursor | null }> {
  const hasRoom = () => pledges.some(hasFreeCap)
  if (!hasRoom()) return { matched: 0, next: null }
  const waiting = (await tx
    .select({ ...giftColumns, cursorAt: sql<string>`${donations.settledAt}::text` })
    .from(donations)
    .where(
      and(
        eq(donations.campaignId, campaignId),
        eq(donations.status, 'succeeded'),
        sql`${donations.matchShortfallMinor} > 0`,
        couldUseFreeCap(pledges),
        after ? sql`(${donations.settledAt}, ${donations.id}) > (${after.settledAt}::timestamptz, ${after.id}::uuid)` : undefined,
      ),
    )
    .orderBy(donations.settledAt, donations.id)
    .limit(pageSize)
    .for('update', { skipLocked: true })) as (Gift & { cursorAt: string })[]
  let matched = 0
  for (const gift of waiting) {
    if (!hasRoom()) break
    const result = allocateMatch(await pledgeStates(tx, pledges, gift), giftTerms(gift), gift.matchShortfallMinor)
    // A match whose key was already taken (the same cause run twice, as two unlocks within one
    // second would) is not written: the gift keeps waiting for that part, for a later pass.
    let unwritten = 0
    for (const allocation of result.allocations) {
      const pledge = pledges.find((p) => p.id === allocation.pledgeId)!
      const written = await recordEarnedMatch(tx, {
        gift,
        pledge,
        allocation,
        sourceKey: `retro:${cause}:${gift.id}`,
        note: `Matched ${money(allocation.amountMinor, pledge.currency)} by ${pledge.partnerName} retrospectively: cap freed by ${cause.split(':')[0]}.`,
        at,
      })
      if (written) matched += allocation.amountMinor
      else unwritten += allocation.portionMinor
    }
    // Most waiting gifts a pass looks at are still waiting after it: no write for those.
    const shortfall = result.shortfallMinor + unwritten
    if (shortfall !== gift.matchShortfallMinor) await setShortfall(tx, gift.id, shortfall)
  }
  await addToTotals(tx, campaignId, { matchedMinor: matched })
  const last = waiting.at(-1)
  return { matched, next: waiting.length === pageSize && last && hasRoom() ? { settledAt: last.cursorAt, id: last.id } : null }
}

