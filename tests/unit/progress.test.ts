import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { computeProgress, formatPercent, pledgeFill, ratioLabel, timeAgo, timeLeft } from '#app/utils/progress.ts'

const odw = { capMinor: 1_500_000, matchedMinor: 421_000 }

describe('computeProgress', () => {
  test('raised = gifts + match; goal = donor target + match caps', () => {
    const p = computeProgress({ raisedGiftsMinor: 500_000, matchedMinor: 421_000, donorTargetMinor: 1_500_000, pledges: [odw] })
    expect(p.raisedMinor).toBe(921_000)
    expect(p.goalMinor).toBe(3_000_000)
    expect(p.matchCapMinor).toBe(1_500_000)
    expect(p.percent).toBeCloseTo(30.7, 1)
    expect(p.giftsWidth).toBeCloseTo(16.67, 2)
    expect(p.matchWidth).toBeCloseTo(14.03, 2)
    expect(p.overGoal).toBe(false)
    expect(p.remainingMinor).toBe(2_079_000)
  })

  test('sums every pledge cap into the goal', () => {
    const p = computeProgress({ raisedGiftsMinor: 0, matchedMinor: 0, donorTargetMinor: 100, pledges: [{ capMinor: 50, matchedMinor: 0 }, { capMinor: 25, matchedMinor: 0 }] })
    expect(p.goalMinor).toBe(175)
  })

  test('over the goal: widths stop at 100 but the figures do not', () => {
    const p = computeProgress({ raisedGiftsMinor: 2_000_000, matchedMinor: 1_500_000, donorTargetMinor: 1_500_000, pledges: [{ capMinor: 1_500_000, matchedMinor: 1_500_000 }] })
    expect(p.raisedMinor).toBe(3_500_000)
    expect(p.percent).toBeCloseTo(116.67, 2)
    expect(p.overGoal).toBe(true)
    expect(p.giftsWidth + p.matchWidth).toBe(100)
    expect(p.remainingMinor).toBe(0)
  })

  test('a zero goal is safe', () => {
    const p = computeProgress({ raisedGiftsMinor: 1000, matchedMinor: 0, donorTargetMinor: 0, pledges: [] })
    expect(p).toMatchObject({ goalMinor: 0, percent: 0, giftsWidth: 0, matchWidth: 0, overGoal: false, raisedMinor: 1000 })
  })

  test('widths are always within the track', () => {
    fc.assert(
      fc.property(fc.nat(1e9), fc.nat(1e9), fc.nat(1e9), fc.array(fc.record({ capMinor: fc.integer({ min: 1, max: 1e9 }), matchedMinor: fc.nat(1e9) }), { maxLength: 3 }), (gifts, matched, target, pledges) => {
        const p = computeProgress({ raisedGiftsMinor: gifts, matchedMinor: matched, donorTargetMinor: target, pledges })
        expect(p.giftsWidth).toBeGreaterThanOrEqual(0)
        expect(p.matchWidth).toBeGreaterThanOrEqual(0)
        expect(p.giftsWidth + p.matchWidth).toBeLessThanOrEqual(100)
        expect(p.raisedMinor).toBe(gifts + matched)
      }),
    )
  })
})

describe('pledgeFill', () => {
  test('reads as "$4,210 of $15,000 matched"', () => {
    expect(pledgeFill(odw)).toEqual({ matchedMinor: 421_000, capMinor: 1_500_000, remainingMinor: 1_079_000, width: expect.closeTo(28.07, 2), full: false })
  })
  test('a full pledge', () => {
    expect(pledgeFill({ capMinor: 100, matchedMinor: 100 })).toMatchObject({ width: 100, full: true, remainingMinor: 0 })
  })
})

describe('formatPercent', () => {
  test.each([
    [0, '0%'],
    [0.4, '<1%'],
    [5.55, '5.5%'],
    [30.7, '30%'],
    [99.96, '99%'],
    [100, '100%'],
    [116.67, '116%'],
  ])('%d → %s', (value, text) => expect(formatPercent(value)).toBe(text))
})

describe('timeLeft', () => {
  const now = new Date('2026-03-10T12:00:00Z')
  const window = (startDays: number, endHours: number) => ({
    startsAt: new Date(now.getTime() + startDays * 86_400_000),
    endsAt: new Date(now.getTime() + endHours * 3_600_000),
  })
  test.each([
    [window(-14, 30 * 24), '30 days left'],
    [window(-14, 3 * 24 + 5), '3 days left'],
    [window(-14, 47), '1 day left'],
    [window(-14, 23), 'Ends today'],
    [window(-14, 0.01), 'Ends today'],
    [window(-14, 0), 'Ended'],
    [window(-14, -48), 'Ended'],
    [window(3, 30 * 24), 'Starts in 3 days'],
    [window(0.5, 30 * 24), 'Starts within a day'],
  ])('%# → %s', (w, label) => expect(timeLeft(w, now).label).toBe(label))
})

test('timeAgo', () => {
  const now = new Date('2026-03-10T12:00:00Z')
  const ago = (ms: number) => timeAgo(new Date(now.getTime() - ms), now)
  expect(ago(10_000)).toBe('just now')
  expect(ago(60_000)).toBe('1 minute ago')
  expect(ago(5 * 60_000)).toBe('5 minutes ago')
  expect(ago(3 * 3_600_000)).toBe('3 hours ago')
  expect(ago(30 * 3_600_000)).toBe('yesterday')
  expect(ago(5 * 86_400_000)).toBe('5 days ago')
  expect(ago(-5000)).toBe('just now')
})

test('ratioLabel', () => {
  expect(ratioLabel(1, 1)).toBe('1:1')
  expect(ratioLabel(2, 1)).toBe('2:1')
})
