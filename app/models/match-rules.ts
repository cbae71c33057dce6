// The matching rules as pure arithmetic, so every rounding and every rule is unit-tested apart
// from the database. Amounts are minor units in the campaign's currency.
//
// A gift's value is its "portion" to be matched. Pledges are applied in order: each matches
// what it can of the portion still unmatched (portion × ratio, floored, within its limits) and
// consumes the part of the portion that its match stands for; the rest flows to the next pledge.
// Rounding always favours the pledge by less than a cent: never a cent more than the ratio.
import { multiplyRatio } from '#app/utils/money.ts'

export interface PledgeTerms {
  id: number
  partnerName: string
  capMinor: number
  matchedMinor: number
  reservedMinor: number
  ratioNum: number
  ratioDen: number
  startsAt: Date
  endsAt: Date
  perGiftMaxMinor: number | null
  perDonorMaxMinor: number | null
  designationIds: string[] | null
  matchedInstallments: number | null
  unlockMinRaisedMinor: number | null
  unlockMinDonors: number | null
  unlockedAt: Date | null
  closedAt: Date | null
}

export interface GiftTerms {
  /** When the donor gave (checkout created, or the monthly payment made). */
  madeAt: Date
  designationId: string
  installment: number
}

export type Ineligibility = 'closed' | 'outside_window' | 'designation_not_covered' | 'installment_not_matched'

export function ineligibility(pledge: PledgeTerms, gift: GiftTerms): Ineligibility | null {
  // A closed pledge has settled its leftover (returned or donated): it matches nothing more, not
  // even a gift begun before the close whose payment arrives after it.
  if (pledge.closedAt) return 'closed'
  if (gift.madeAt < pledge.startsAt || gift.madeAt >= pledge.endsAt) return 'outside_window'
  if (pledge.designationIds && !pledge.designationIds.includes(gift.designationId)) return 'designation_not_covered'
  if (pledge.matchedInstallments !== null && gift.installment > pledge.matchedInstallments) return 'installment_not_matched'
  return null
}

/** A challenge pledge pays nothing until its unlock condition is met. */
export function isLocked(pledge: PledgeTerms): boolean {
  return (pledge.unlockMinRaisedMinor !== null || pledge.unlockMinDonors !== null) && pledge.unlockedAt === null
}

export function unlockReached(pledge: PledgeTerms, totals: { raisedGiftsMinor: number; donorsCount: number }): boolean {
  return (
    (pledge.unlockMinRaisedMinor !== null && totals.raisedGiftsMinor >= pledge.unlockMinRaisedMinor) ||
    (pledge.unlockMinDonors !== null && totals.donorsCount >= pledge.unlockMinDonors)
  )
}

export interface PledgeState {
  terms: PledgeTerms
  /** What the pledge can give this gift now: cap room, plus anything reserved for this gift. */
  availableMinor: number
  /** Already matched to this gift by this pledge (the per-gift maximum is per gift, not per row). */
  giftMatchedMinor: number
  /** Room left under the per-donor maximum; null when the pledge has none. */
  donorRoomMinor: number | null
}

export type Limit = 'none' | 'cap' | 'per_gift_max' | 'per_donor_max'

export interface Allocation {
  pledgeId: number
  amountMinor: number
  portionMinor: number
  limitedBy: Limit
}

export interface Skipped {
  pledgeId: number
  reason: Ineligibility | 'locked' | Exclude<Limit, 'none'>
}

export interface AllocationResult {
  allocations: Allocation[]
  skipped: Skipped[]
  /** Portion no pledge matched. */
  unmatchedPortionMinor: number
  /** The part of it left unmatched only because a cap ran out or a challenge is locked: a later release may match it. */
  shortfallMinor: number
}

export function allocateMatch(pledges: PledgeState[], gift: GiftTerms, portionMinor: number): AllocationResult {
  const allocations: Allocation[] = []
  const skipped: Skipped[] = []
  let portion = portionMinor
  let waitingOnCap = false
  for (const state of pledges) {
    if (portion <= 0) break
    const { terms } = state
    const reason = ineligibility(terms, gift)
    if (reason) {
      skipped.push({ pledgeId: terms.id, reason })
      continue
    }
    if (isLocked(terms)) {
      waitingOnCap = true
      skipped.push({ pledgeId: terms.id, reason: 'locked' })
      continue
    }
    const raw = multiplyRatio(portion, terms.ratioNum, terms.ratioDen, 'floor')
    const limits: [Limit, number][] = [
      ['cap', Math.max(0, state.availableMinor)],
      ['per_gift_max', terms.perGiftMaxMinor === null ? Infinity : Math.max(0, terms.perGiftMaxMinor - state.giftMatchedMinor)],
      ['per_donor_max', state.donorRoomMinor === null ? Infinity : Math.max(0, state.donorRoomMinor)],
    ]
    let amount = raw
    let limitedBy: Limit = 'none'
    for (const [limit, room] of limits) {
      if (room < amount) {
        amount = room
        limitedBy = limit
      }
    }
    if (limitedBy === 'cap') waitingOnCap = true
    if (amount <= 0) {
      if (raw > 0 && limitedBy !== 'none') skipped.push({ pledgeId: terms.id, reason: limitedBy as Exclude<Limit, 'none'> })
      continue
    }
    const used = amount === raw ? portion : Math.min(portion, multiplyRatio(amount, terms.ratioDen, terms.ratioNum, 'ceil'))
    portion -= used
    allocations.push({ pledgeId: terms.id, amountMinor: amount, portionMinor: used, limitedBy })
  }
  return {
    allocations,
    skipped,
    unmatchedPortionMinor: portion,
    shortfallMinor: waitingOnCap ? portion : 0,
  }
}

/**
 * What a match keeps when its gift's matchable value falls from `before` to `after` (a refund,
 * a lost dispute): proportional, floored, so successive partial reversals never reverse more
 * than was matched and a full reversal returns exactly everything.
 */
export function proportionalKeep(amountMinor: number, beforeMinor: number, afterMinor: number): number {
  if (beforeMinor <= 0 || afterMinor >= beforeMinor) return amountMinor
  if (afterMinor <= 0) return 0
  return multiplyRatio(amountMinor, afterMinor, beforeMinor, 'floor')
}

/** A gift's value left after part of its charge was removed (refunds, disputes), floored. */
export function valueAfterRemoval(valueMinor: number, chargedMinor: number, removedMinor: number): number {
  if (removedMinor <= 0) return valueMinor
  if (removedMinor >= chargedMinor) return 0
  return multiplyRatio(valueMinor, chargedMinor - removedMinor, chargedMinor, 'floor')
}
