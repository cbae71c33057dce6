// What a settled gift stands at once refunds and disputes have taken their part, in the words the
// donor reads on the thank-you email, the notice of a change and the thank-you page alike: one
// rule, so the three never disagree.
import { formatMoneyWithCode } from './money.ts'

export interface GiftCharge {
  currency: string
  /** What the donor chose to give. */
  amountMinor: number
  /** The card fee they chose to cover on top; the whole charge is their gift. */
  feeCoveredMinor: number
  chargedMinor: number
  refundedMinor: number
  disputedMinor: number
}

export function giftStanding(gift: GiftCharge) {
  const money = (amountMinor: number) => formatMoneyWithCode(amountMinor, gift.currency)
  // Refunds and disputes each stay within the charge but may overlap (a refunded charge disputed
  // in full), so what remains never goes below nothing.
  const remainingMinor = Math.max(0, gift.chargedMinor - gift.refundedMinor - gift.disputedMinor)
  const taken = gift.refundedMinor > 0 || gift.disputedMinor > 0
  return {
    remainingMinor,
    /** What remains, formatted: the whole charge while nothing was taken back. */
    remaining: money(remainingMinor),
    charged: money(gift.chargedMinor),
    /** The covered fee broken out; once part was taken back, "the partner receives the full amount" no longer holds. */
    feeCovered: gift.feeCoveredMinor > 0 && !taken ? { fee: money(gift.feeCoveredMinor), net: money(gift.amountMinor) } : null,
    /** Each part taken back, out of the whole charge. */
    removed: taken
      ? {
          charged: money(gift.chargedMinor),
          refunded: gift.refundedMinor > 0 ? money(gift.refundedMinor) : null,
          disputed: gift.disputedMinor > 0 ? money(gift.disputedMinor) : null,
        }
      : null,
  }
}
