// The matching arithmetic, apart from the database: ratios, limits, the flow of a gift's portion
// through ordered pledges, proportional reversal and rounding. Examples pin the rules down; the
// fast-check properties say no cent is ever created or lost for any input.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  allocateMatch,
  ineligibility,
  isLocked,
  proportionalKeep,
  unlockReached,
  valueAfterRemoval,
  type GiftTerms,
  type PledgeState,
  type PledgeTerms,
} from '#app/models/match-rules.ts'

const start = new Date('2026-11-01T00:00:00Z')
const end = new Date('2026-12-01T00:00:00Z')
const during = new Date('2026-11-15T12:00:00Z')

function terms(overrides: Partial<PledgeTerms> = {}): PledgeTerms {
  return {
    id: 1,
    partnerName: "One Day's Wages",
    capMinor: 1_500_000,
    matchedMinor: 0,
    reservedMinor: 0,
    ratioNum: 1,
    ratioDen: 1,
    startsAt: start,
    endsAt: end,
    perGiftMaxMinor: null,
    perDonorMaxMinor: null,
    designationIds: null,
    matchedInstallments: null,
    unlockMinRaisedMinor: null,
    unlockMinDonors: null,
    unlockedAt: null,
    closedAt: null,
    ...overrides,
  }
}

function state(overrides: Partial<PledgeTerms> = {}, extra: Partial<Omit<PledgeState, 'terms'>> = {}): PledgeState {
  const t = terms(overrides)
  return { terms: t, availableMinor: t.capMinor - t.matchedMinor - t.reservedMinor, giftMatchedMinor: 0, donorRoomMinor: null, ...extra }
}

const gift: GiftTerms = { madeAt: during, designationId: 'love-packs', installment: 1 }

describe('allocateMatch: one pledge', () => {
  test('1:1 matches the whole gift, 2:1 doubles it, 1:2 halves it (floored)', () => {
    expect(allocateMatch([state()], gift, 5_000).allocations).toEqual([{ pledgeId: 1, amountMinor: 5_000, portionMinor: 5_000, limitedBy: 'none' }])
    expect(allocateMatch([state({ ratioNum: 2 })], gift, 5_000).allocations[0]).toMatchObject({ amountMinor: 10_000, portionMinor: 5_000 })
    // $50.01 at 1:2 is $25.005: the pledge pays $25.00, never the half cent.
    const half = allocateMatch([state({ ratioDen: 2 })], gift, 5_001)
    expect(half.allocations[0]).toMatchObject({ amountMinor: 2_500, portionMinor: 5_001 })
    expect(half.unmatchedPortionMinor).toBe(0)
  })

  test('the cap limits the match and the portion it stands for; the rest is a shortfall that freed cap may match later', () => {
    const result = allocateMatch([state({ capMinor: 10_000, matchedMinor: 7_000 })], gift, 5_000)
    expect(result.allocations).toEqual([{ pledgeId: 1, amountMinor: 3_000, portionMinor: 3_000, limitedBy: 'cap' }])
    expect(result.unmatchedPortionMinor).toBe(2_000)
    expect(result.shortfallMinor).toBe(2_000)
  })

  test('a capped 2:1 pledge consumes only the portion its match pays for, rounded up in the pledge’s favour', () => {
    // 3 cents of room at 2:1 pays for 1.5 cents of gift: 2 cents of portion are used up.
    const result = allocateMatch([state({ ratioNum: 2, capMinor: 3 })], gift, 10)
    expect(result.allocations[0]).toMatchObject({ amountMinor: 3, portionMinor: 2, limitedBy: 'cap' })
    expect(result.unmatchedPortionMinor).toBe(8)
  })

  test('an exhausted cap is recorded as the reason and leaves the whole gift waiting', () => {
    const result = allocateMatch([state({ capMinor: 100, matchedMinor: 60, reservedMinor: 40 })], gift, 5_000)
    expect(result.allocations).toEqual([])
    expect(result.skipped).toEqual([{ pledgeId: 1, reason: 'cap' }])
    expect(result.shortfallMinor).toBe(5_000)
  })

  test('the per-gift maximum counts what this gift already holds, and is not a shortfall', () => {
    const result = allocateMatch([state({ perGiftMaxMinor: 2_500 }, { giftMatchedMinor: 1_000 })], gift, 5_000)
    expect(result.allocations[0]).toMatchObject({ amountMinor: 1_500, portionMinor: 1_500, limitedBy: 'per_gift_max' })
    expect(result.shortfallMinor).toBe(0)
    const full = allocateMatch([state({ perGiftMaxMinor: 2_500 }, { giftMatchedMinor: 2_500 })], gift, 5_000)
    expect(full.skipped).toEqual([{ pledgeId: 1, reason: 'per_gift_max' }])
  })

  test('the per-donor maximum limits by the room the donor has left', () => {
    const result = allocateMatch([state({ perDonorMaxMinor: 10_000 }, { donorRoomMinor: 400 })], gift, 5_000)
    expect(result.allocations[0]).toMatchObject({ amountMinor: 400, limitedBy: 'per_donor_max' })
    expect(result.shortfallMinor).toBe(0)
  })

  test('the tightest limit wins and is the one reported', () => {
    const result = allocateMatch([state({ capMinor: 900, perGiftMaxMinor: 700 }, { donorRoomMinor: 800 })], gift, 5_000)
    expect(result.allocations[0]).toMatchObject({ amountMinor: 700, limitedBy: 'per_gift_max' })
  })

  test('a gift too small to earn a whole cent at the ratio is left unmatched, not rounded up', () => {
    const result = allocateMatch([state({ ratioDen: 3 })], gift, 2)
    expect(result.allocations).toEqual([])
    expect(result.unmatchedPortionMinor).toBe(2)
  })
})

describe('eligibility rules', () => {
  test('window: from the start (inclusive) to the end (exclusive)', () => {
    expect(ineligibility(terms(), { ...gift, madeAt: start })).toBeNull()
    expect(ineligibility(terms(), { ...gift, madeAt: new Date(start.getTime() - 1) })).toBe('outside_window')
    expect(ineligibility(terms(), { ...gift, madeAt: end })).toBe('outside_window')
  })

  test('designations covered, first N payments of a monthly gift, closed pledges', () => {
    expect(ineligibility(terms({ designationIds: ['survivor-fund'] }), gift)).toBe('designation_not_covered')
    expect(ineligibility(terms({ designationIds: ['survivor-fund', 'love-packs'] }), gift)).toBeNull()
    expect(ineligibility(terms({ matchedInstallments: 3 }), { ...gift, installment: 3 })).toBeNull()
    expect(ineligibility(terms({ matchedInstallments: 3 }), { ...gift, installment: 4 })).toBe('installment_not_matched')
    expect(ineligibility(terms({ closedAt: new Date(during.getTime() - 1) }), gift)).toBe('closed')
    // Closed is closed: a gift begun before the close but paid after it is not matched either.
    expect(ineligibility(terms({ closedAt: new Date(during.getTime() + 1) }), gift)).toBe('closed')
  })

  test('an ineligible pledge is skipped with its reason; the gift flows on and no shortfall waits on it', () => {
    const result = allocateMatch(
      [state({ id: 1, designationIds: ['survivor-fund'] }), state({ id: 2, ratioNum: 1, ratioDen: 2 })],
      gift,
      5_000,
    )
    expect(result.skipped).toEqual([{ pledgeId: 1, reason: 'designation_not_covered' }])
    expect(result.allocations).toEqual([{ pledgeId: 2, amountMinor: 2_500, portionMinor: 5_000, limitedBy: 'none' }])
    expect(allocateMatch([state({ designationIds: ['survivor-fund'] })], gift, 5_000).shortfallMinor).toBe(0)
  })

  test('challenges: locked until money or donors reach the target; a locked challenge leaves the gift waiting', () => {
    const money = terms({ unlockMinRaisedMinor: 100_000 })
    const donors = terms({ unlockMinDonors: 10 })
    expect(isLocked(money)).toBe(true)
    expect(isLocked({ ...money, unlockedAt: during })).toBe(false)
    expect(isLocked(terms())).toBe(false)
    expect(unlockReached(money, { raisedGiftsMinor: 99_999, donorsCount: 1_000 })).toBe(false)
    expect(unlockReached(money, { raisedGiftsMinor: 100_000, donorsCount: 0 })).toBe(true)
    expect(unlockReached(donors, { raisedGiftsMinor: 10_000_000, donorsCount: 9 })).toBe(false)
    expect(unlockReached(donors, { raisedGiftsMinor: 0, donorsCount: 10 })).toBe(true)
    const result = allocateMatch([state({ unlockMinDonors: 10 })], gift, 5_000)
    expect(result.skipped).toEqual([{ pledgeId: 1, reason: 'locked' }])
    expect(result.shortfallMinor).toBe(5_000)
  })
})

describe('allocateMatch: ordered pledges', () => {
  test('each pledge matches what it can of the portion still unmatched; the rest flows to the next', () => {
    const result = allocateMatch(
      [state({ id: 1, capMinor: 2_000 }), state({ id: 2, ratioNum: 2 }), state({ id: 3 })],
      gift,
      5_000,
    )
    expect(result.allocations).toEqual([
      { pledgeId: 1, amountMinor: 2_000, portionMinor: 2_000, limitedBy: 'cap' },
      { pledgeId: 2, amountMinor: 6_000, portionMinor: 3_000, limitedBy: 'none' },
    ])
    expect(result.unmatchedPortionMinor).toBe(0)
    expect(result.shortfallMinor).toBe(0)
  })

  test('when every cap runs out, what is left waits for freed cap', () => {
    const result = allocateMatch([state({ id: 1, capMinor: 1_000 }), state({ id: 2, capMinor: 1_500 })], gift, 5_000)
    expect(result.allocations.map((a) => a.amountMinor)).toEqual([1_000, 1_500])
    expect(result.shortfallMinor).toBe(2_500)
  })
})

describe('proportional reversal', () => {
  test('a half refund keeps half the match, floored; a full one keeps nothing; an increase keeps everything', () => {
    expect(proportionalKeep(3_333, 10_000, 5_000)).toBe(1_666)
    expect(proportionalKeep(3_333, 10_000, 0)).toBe(0)
    expect(proportionalKeep(3_333, 10_000, 10_000)).toBe(3_333)
    expect(proportionalKeep(3_333, 0, 0)).toBe(3_333)
  })

  test('a gift’s value after removal is proportional to what is left of the charge, and zero when all is gone', () => {
    // $100 gift with a $3.20 covered fee: refunding $51.60 of the $103.20 charge leaves half.
    expect(valueAfterRemoval(10_000, 10_320, 5_160)).toBe(5_000)
    expect(valueAfterRemoval(10_000, 10_320, 0)).toBe(10_000)
    expect(valueAfterRemoval(10_000, 10_320, 10_320)).toBe(0)
    expect(valueAfterRemoval(12_700, 10_000, 1)).toBe(12_698) // floored: 12,698.73
  })
})

// ---------------------------------------------------------------------------------------------
// Properties

const pledgeArb = fc
  .record({
    capMinor: fc.integer({ min: 1, max: 2_000_000 }),
    used: fc.double({ min: 0, max: 1, noNaN: true }),
    ratioNum: fc.integer({ min: 1, max: 5 }),
    ratioDen: fc.integer({ min: 1, max: 5 }),
    perGiftMaxMinor: fc.option(fc.integer({ min: 1, max: 500_000 }), { nil: null }),
    giftMatchedMinor: fc.integer({ min: 0, max: 100_000 }),
    donorRoomMinor: fc.option(fc.integer({ min: -1_000, max: 500_000 }), { nil: null }),
    designationIds: fc.option(fc.subarray(['love-packs', 'survivor-fund', 'unrestricted']), { nil: null }),
    locked: fc.boolean(),
  })
  .map((p) => ({ ...p, usedMinor: Math.floor(p.capMinor * p.used) }))

const pledgesArb = fc.array(pledgeArb, { minLength: 1, maxLength: 4 }).map((list) =>
  list.map((p, index): PledgeState => {
    const t = terms({
      id: index + 1,
      capMinor: p.capMinor,
      matchedMinor: p.usedMinor,
      ratioNum: p.ratioNum,
      ratioDen: p.ratioDen,
      perGiftMaxMinor: p.perGiftMaxMinor,
      perDonorMaxMinor: p.donorRoomMinor === null ? null : 1_000_000,
      designationIds: p.designationIds,
      unlockMinDonors: p.locked ? 5 : null,
    })
    return { terms: t, availableMinor: p.capMinor - p.usedMinor, giftMatchedMinor: p.giftMatchedMinor, donorRoomMinor: p.donorRoomMinor }
  }),
)

const portionArb = fc.integer({ min: 0, max: 5_000_000 })

describe('properties', () => {
  test('no allocation exceeds the cap room, the per-gift or per-donor room, or the ratio on the portion it uses', () => {
    fc.assert(
      fc.property(pledgesArb, portionArb, (pledges, portion) => {
        const result = allocateMatch(pledges, gift, portion)
        for (const a of result.allocations) {
          const s = pledges.find((p) => p.terms.id === a.pledgeId)!
          expect(a.amountMinor).toBeGreaterThan(0)
          expect(a.amountMinor).toBeLessThanOrEqual(s.availableMinor)
          if (s.terms.perGiftMaxMinor !== null) expect(a.amountMinor + s.giftMatchedMinor).toBeLessThanOrEqual(Math.max(s.terms.perGiftMaxMinor, s.giftMatchedMinor))
          if (s.donorRoomMinor !== null) expect(a.amountMinor).toBeLessThanOrEqual(Math.max(0, s.donorRoomMinor))
          // Never a cent over the ratio: amount ≤ portion × num / den, in exact integers.
          expect(BigInt(a.amountMinor) * BigInt(s.terms.ratioDen)).toBeLessThanOrEqual(BigInt(a.portionMinor) * BigInt(s.terms.ratioNum))
          expect(isLocked(s.terms)).toBe(false)
          expect(ineligibility(s.terms, gift)).toBeNull()
        }
      }),
    )
  })

  test('the portions used never exceed the gift, and used + unmatched is exactly the gift', () => {
    fc.assert(
      fc.property(pledgesArb, portionArb, (pledges, portion) => {
        const result = allocateMatch(pledges, gift, portion)
        const used = result.allocations.reduce((sum, a) => sum + a.portionMinor, 0)
        expect(used).toBeLessThanOrEqual(portion)
        expect(used + result.unmatchedPortionMinor).toBe(portion)
        expect(result.shortfallMinor === 0 || result.shortfallMinor === result.unmatchedPortionMinor).toBe(true)
        expect(new Set(result.allocations.map((a) => a.pledgeId)).size).toBe(result.allocations.length)
      }),
    )
  })

  test('an unlimited pledge matches exactly floor(portion × ratio) and consumes the whole portion', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), portionArb, (num, den, portion) => {
        const result = allocateMatch([state({ ratioNum: num, ratioDen: den, capMinor: Number.MAX_SAFE_INTEGER })], gift, portion)
        const expected = Math.floor((portion * num) / den)
        expect(result.allocations.reduce((s, a) => s + a.amountMinor, 0)).toBe(expected)
        if (expected > 0) expect(result.unmatchedPortionMinor).toBe(0)
      }),
    )
  })

  test('at 1:1 with only caps in the way, match + shortfall is the gift to the cent', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 4 }), portionArb, (rooms, portion) => {
        const pledges = rooms.map((room, i) => state({ id: i + 1, capMinor: room + 1, matchedMinor: 1 }))
        const result = allocateMatch(pledges, gift, portion)
        const matched = result.allocations.reduce((s, a) => s + a.amountMinor, 0)
        expect(matched).toBe(Math.min(portion, rooms.reduce((a, b) => a + b, 0)))
        expect(matched + result.shortfallMinor).toBe(portion)
      }),
    )
  })

  test('successive proportional reversals sum exactly to the original match and never overshoot', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        (match, value, cuts) => {
          let matchable = value
          let held = match
          let reversed = 0
          // Each removal takes some of what is left; the last takes everything.
          for (const cut of [...cuts, 1]) {
            const after = cut === 1 ? 0 : Math.floor(matchable * (1 - cut))
            const keep = proportionalKeep(held, matchable, after)
            expect(keep).toBeGreaterThanOrEqual(0)
            expect(keep).toBeLessThanOrEqual(held)
            // The match kept is never more than the ratio of value kept (no cent created).
            if (after < matchable) expect(BigInt(keep) * BigInt(matchable)).toBeLessThanOrEqual(BigInt(held) * BigInt(after))
            reversed += held - keep
            held = keep
            matchable = after
            expect(reversed + held).toBe(match)
          }
          expect(held).toBe(0)
          expect(reversed).toBe(match)
        },
      ),
    )
  })

  test('value after removal is monotone, within the value, and zero once the whole charge is removed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (value, charged, a, b) => {
          const [less, more] = a <= b ? [a, b] : [b, a]
          const v1 = valueAfterRemoval(value, charged, less)
          const v2 = valueAfterRemoval(value, charged, more)
          expect(v1).toBeGreaterThanOrEqual(v2)
          expect(v1).toBeLessThanOrEqual(value)
          expect(v2).toBeGreaterThanOrEqual(0)
          if (more >= charged) expect(v2).toBe(0)
        },
      ),
    )
  })
})
