import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  allocate,
  convertMinor,
  currencies,
  donationLimits,
  formatMoney,
  grossUpForFee,
  isCurrency,
  multiplyRatio,
  parseAmount,
  type Currency,
} from '#app/utils/money.ts'

const currency = fc.constantFrom<Currency>(...currencies)

describe('currencies', () => {
  test('isCurrency accepts only the three we take', () => {
    expect(currencies.filter(isCurrency)).toEqual(['USD', 'GBP', 'NZD'])
    expect(isCurrency('EUR')).toBe(false)
    expect(isCurrency('usd')).toBe(false)
  })

  test('limits are $5 to $25,000 in every currency', () => {
    for (const code of currencies) expect(donationLimits[code]).toEqual({ minMinor: 500, maxMinor: 2_500_000 })
  })
})

describe('formatMoney', () => {
  test('formats minor units with the currency symbol', () => {
    expect(formatMoney(421050, 'USD')).toBe('$4,210.50')
    expect(formatMoney(2500, 'GBP')).toBe('£25.00')
    expect(formatMoney(2500, 'NZD')).toBe('NZ$25.00')
    expect(formatMoney(-1999, 'USD')).toBe('-$19.99')
    expect(formatMoney(5, 'USD')).toBe('$0.05')
  })

  test('whole drops ".00" only for whole amounts', () => {
    expect(formatMoney(421000, 'USD', { whole: true })).toBe('$4,210')
    expect(formatMoney(421050, 'USD', { whole: true })).toBe('$4,210.50')
    expect(formatMoney(0, 'USD', { whole: true })).toBe('$0')
  })

  test('uses the locale asked for', () => {
    expect(formatMoney(123456, 'GBP', { locale: 'en-GB' })).toBe('£1,234.56')
    expect(formatMoney(123456, 'NZD', { locale: 'en-NZ' })).toBe('$1,234.56')
    expect(formatMoney(123456, 'USD', { locale: 'de-DE' }).replace(/\s/gu, ' ')).toBe('1.234,56 $')
  })

  test('is exact for large amounts (no float rounding)', () => {
    expect(formatMoney(9_007_199_254_740_991, 'USD')).toBe('$90,071,992,547,409.91')
  })

  test('rejects non-integers', () => {
    expect(() => formatMoney(10.5, 'USD')).toThrow(RangeError)
    expect(() => formatMoney(Number.NaN, 'USD')).toThrow(RangeError)
  })
})

describe('parseAmount', () => {
  test.each([
    ['25', 'USD', 2500],
    ['25.5', 'USD', 2550],
    ['1,000.50', 'USD', 100050],
    ['£25', 'GBP', 2500],
    ['$ 1,000', 'USD', 100000],
    [' 25 ', 'USD', 2500],
    ['NZ$40', 'NZD', 4000],
    ['$40', 'NZD', 4000],
    ['25 USD', 'USD', 2500],
    ['0.50', 'USD', 50],
    ['.75', 'GBP', 75],
    ['25.', 'USD', 2500],
    ['25.500', 'USD', 2550],
    ['25,000', 'USD', 2_500_000],
  ] as const)('accepts %j in %s', (input, code, expected) => {
    expect(parseAmount(input, code)).toEqual({ ok: true, amountMinor: expected })
  })

  test.each([
    ['', 'Enter an amount.'],
    ['   ', 'Enter an amount.'],
    ['-5', 'above zero'],
    ['$-5', 'above zero'],
    ['0', 'above zero'],
    ['1.005', 'at most 2 digits after the dot'],
    ['1,00', 'Use a dot for decimals'],
    ['25,50', 'Use a dot for decimals'],
    ['1e5', 'digits'],
    ['abc', 'digits'],
    ['25abc', 'digits'],
    ['1.2.3', 'digits'],
    ['1,0000', 'digits'],
    ['.', 'digits'],
    ['£25', "another currency's symbol"],
    ['€25', "another currency's symbol"],
    ['NZ$25', "another currency's symbol"],
    ['25,001', 'The most we can take in one online gift is $25,000'],
    ['99999999999999999999', 'The most we can take'],
  ])('rejects %j', (input, message) => {
    const result = parseAmount(input, 'USD')
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toContain(message)
  })

  test('a dollar sign means another currency for pounds', () => {
    const result = parseAmount('$25', 'GBP')
    expect(result).toEqual({ ok: false, error: expect.stringContaining('pounds sterling') })
  })

  test('honours a lower maximum', () => {
    expect(parseAmount('101', 'USD', { maxMinor: 10_000 })).toEqual({ ok: false, error: expect.stringContaining('$100') })
    expect(parseAmount('100', 'USD', { maxMinor: 10_000 })).toEqual({ ok: true, amountMinor: 10_000 })
  })

  test('parse ∘ format round-trips every amount up to the maximum', () => {
    fc.assert(
      fc.property(currency, fc.integer({ min: 1, max: 2_500_000 }), fc.boolean(), (code, amount, whole) => {
        expect(parseAmount(formatMoney(amount, code, { whole }), code)).toEqual({ ok: true, amountMinor: amount })
      }),
    )
  })
})

describe('multiplyRatio', () => {
  test('applies ratios exactly with the rounding asked for', () => {
    expect(multiplyRatio(1001, 1, 2)).toBe(500)
    expect(multiplyRatio(1001, 1, 2, 'ceil')).toBe(501)
    expect(multiplyRatio(1001, 1, 2, 'half-up')).toBe(501)
    expect(multiplyRatio(1000, 2, 1)).toBe(2000)
    expect(multiplyRatio(1000, 1, 3, 'half-up')).toBe(333)
  })

  test('floor and ceil are mathematical for negatives; half-up is symmetric', () => {
    expect(multiplyRatio(-1001, 1, 2, 'floor')).toBe(-501)
    expect(multiplyRatio(-1001, 1, 2, 'ceil')).toBe(-500)
    expect(multiplyRatio(-1001, 1, 2, 'half-up')).toBe(-501)
  })

  test('is exact beyond float precision', () => {
    // 9007199254740991 × 3 / 3 loses precision as a float product.
    expect(multiplyRatio(Number.MAX_SAFE_INTEGER, 3, 3)).toBe(Number.MAX_SAFE_INTEGER)
  })

  test('rejects unsafe input and results', () => {
    expect(() => multiplyRatio(1.5, 1, 1)).toThrow(RangeError)
    expect(() => multiplyRatio(1, 1, 0)).toThrow(RangeError)
    expect(() => multiplyRatio(Number.MAX_SAFE_INTEGER, 2, 1)).toThrow(RangeError)
  })

  test('floor never exceeds the exact product, ceil never falls below it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), (a, n, d) => {
        const floor = multiplyRatio(a, n, d, 'floor')
        const ceil = multiplyRatio(a, n, d, 'ceil')
        expect(floor * d).toBeLessThanOrEqual(a * n)
        expect((floor + 1) * d).toBeGreaterThan(a * n)
        expect(ceil * d).toBeGreaterThanOrEqual(a * n)
        expect(ceil - floor).toBe((a * n) % d === 0 ? 0 : 1)
      }),
    )
  })
})

describe('allocate', () => {
  test('splits by largest remainder, earlier weights winning ties', () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33])
    expect(allocate(5, [3, 7])).toEqual([2, 3]) // 1.5 and 3.5: a tie, so the earlier weight wins
    expect(allocate(-100, [1, 1, 1])).toEqual([-34, -33, -33])
    expect(allocate(10, [0, 1, 0])).toEqual([0, 10, 0])
    expect(allocate(0, [0, 0])).toEqual([0, 0])
  })

  test('rejects what cannot be split', () => {
    expect(() => allocate(10, [])).toThrow(RangeError)
    expect(() => allocate(10, [0, 0])).toThrow(RangeError)
    expect(() => allocate(10, [-1, 2])).toThrow(RangeError)
    expect(() => allocate(10.5, [1])).toThrow(RangeError)
  })

  test('parts sum exactly to the total and each is within 1 of its exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 12 }).filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const parts = allocate(total, weights)
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total)
          const sum = weights.reduce((a, b) => a + b, 0)
          parts.forEach((part, i) => {
            // |part − total × w / sum| < 1, compared in integers: |part × sum − total × w| < sum.
            const diff = BigInt(part) * BigInt(sum) - BigInt(total) * BigInt(weights[i]!)
            expect(diff < 0n ? -diff : diff).toBeLessThan(BigInt(sum))
            if (weights[i] === 0) expect(part).toBe(0)
          })
        },
      ),
    )
  })
})

describe('convertMinor', () => {
  test('converts at a decimal rate without floats', () => {
    expect(convertMinor(10_000, '1.27345')).toBe(12_735) // 12734.5 rounds half up
    expect(convertMinor(10_000, '1.27345', 'floor')).toBe(12_734)
    expect(convertMinor(2_500, '0.59')).toBe(1_475)
    expect(convertMinor(1, '0.5')).toBe(1)
    expect(convertMinor(-1, '0.5')).toBe(-1)
    expect(convertMinor(123, '1')).toBe(123)
  })

  test('rejects malformed or zero rates', () => {
    for (const rate of ['', 'abc', '-1.2', '1e3', '0', '0.000', '1.2.3']) expect(() => convertMinor(100, rate)).toThrow(RangeError)
  })
})

describe('grossUpForFee', () => {
  test('covers a typical card fee', () => {
    // $50 at 2.9% + 30¢: C − round(C × 0.029) − 30 ≥ 5000 → C = 5180 (fee 150 + 30).
    expect(grossUpForFee(5000, { percentBps: 290, fixedMinor: 30 })).toEqual({ chargedMinor: 5180, feeMinor: 180 })
    expect(grossUpForFee(0, { percentBps: 0, fixedMinor: 0 })).toEqual({ chargedMinor: 0, feeMinor: 0 })
    expect(grossUpForFee(1000, { percentBps: 0, fixedMinor: 20 })).toEqual({ chargedMinor: 1020, feeMinor: 20 })
  })

  test('rejects impossible fees', () => {
    expect(() => grossUpForFee(100, { percentBps: 10_000, fixedMinor: 0 })).toThrow(RangeError)
    expect(() => grossUpForFee(-1, { percentBps: 290, fixedMinor: 30 })).toThrow(RangeError)
    expect(() => grossUpForFee(100, { percentBps: 2.5, fixedMinor: 30 })).toThrow(RangeError)
  })

  test('the charge is sufficient and minimal', () => {
    const fee = (c: number, bps: number, fixed: number) => Math.floor((2 * c * bps + 10_000) / 20_000) + fixed
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 500 }), (net, bps, fixed) => {
        const { chargedMinor, feeMinor } = grossUpForFee(net, { percentBps: bps, fixedMinor: fixed })
        expect(feeMinor).toBe(chargedMinor - net)
        expect(chargedMinor - fee(chargedMinor, bps, fixed)).toBeGreaterThanOrEqual(net)
        if (chargedMinor > 0) expect(chargedMinor - 1 - fee(chargedMinor - 1, bps, fixed)).toBeLessThan(net)
      }),
    )
  })
})
