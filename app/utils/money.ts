// The one module that owns money: amounts are integer minor units plus an ISO 4217 code. Pure and
// browser-safe (the donation form uses it on both sides). Arithmetic that could lose a cent to
// floating point goes through BigInt; every integer input is checked, so a float or an overflow
// fails loudly instead of quietly rounding somebody's gift.

export const currencies = ['USD', 'GBP', 'NZD'] as const
export type Currency = (typeof currencies)[number]

export function isCurrency(v: string): v is Currency {
  return (currencies as readonly string[]).includes(v)
}

/** Digits after the decimal point: all three are 2 today, kept explicit for the day one is not. */
const fractionDigits: Record<Currency, number> = { USD: 2, GBP: 2, NZD: 2 }

/** What donors call each currency, for messages. */
export const currencyNames: Record<Currency, string> = {
  USD: 'US dollars',
  GBP: 'pounds sterling',
  NZD: 'New Zealand dollars',
}

/**
 * Per-gift limits. The minimum blunts card testing (fraudsters probe stolen cards with tiny
 * charges); the maximum keeps a typo from charging $250,000 and sends large gifts to a person.
 */
export const donationLimits: Record<Currency, { minMinor: number; maxMinor: number }> = {
  USD: { minMinor: 500, maxMinor: 2_500_000 },
  GBP: { minMinor: 500, maxMinor: 2_500_000 },
  NZD: { minMinor: 500, maxMinor: 2_500_000 },
}

function checkInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${value}`)
}

function toSafeNumber(value: bigint, what: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} (${value}) is beyond the safe integer range`)
  return n
}

// ---------------------------------------------------------------------------------------------
// Formatting

// Building an Intl.NumberFormat is far slower than using one, and pages format dozens of amounts.
const formatters = new Map<string, Intl.NumberFormat>()

function formatter(locale: string, currency: Currency, whole: boolean): Intl.NumberFormat {
  const key = `${locale}|${currency}|${whole ? 'w' : 'f'}`
  let cached = formatters.get(key)
  if (!cached) {
    const digits = whole ? 0 : fractionDigits[currency]
    cached = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    })
    formatters.set(key, cached)
  }
  return cached
}

/** The amount as an exact decimal string ("-1234.05"), so Intl never sees a rounded float. */
function toDecimalString(amountMinor: number, currency: Currency): `${number}` {
  const digits = fractionDigits[currency]
  const sign = amountMinor < 0 ? '-' : ''
  const abs = Math.abs(amountMinor).toString().padStart(digits + 1, '0')
  const whole = abs.slice(0, abs.length - digits)
  return (digits === 0 ? `${sign}${whole}` : `${sign}${whole}.${abs.slice(-digits)}`) as `${number}`
}

/**
 * "$4,210.50". The default locale is fixed (not the runtime's) so the server and the browser
 * print the same thing and hydration never disagrees. `whole` drops ".00" only when the amount
 * is whole units ("$4,210"), never rounding away real cents.
 */
export function formatMoney(
  amountMinor: number,
  currency: Currency,
  options: { locale?: string; whole?: boolean } = {},
): string {
  checkInteger('amountMinor', amountMinor)
  const unit = 10 ** fractionDigits[currency]
  const whole = options.whole === true && amountMinor % unit === 0
  return formatter(options.locale ?? 'en-US', currency, whole).format(toDecimalString(amountMinor, currency))
}

/**
 * "$50.00 USD": with its ISO code, for what a donor keeps (the thank-you email and page), since "$"
 * alone could be US or NZ dollars. A code we do not price in is still shown, in minor units.
 */
export function formatMoneyWithCode(amountMinor: number, currency: string): string {
  return isCurrency(currency) ? `${formatMoney(amountMinor, currency)} ${currency}` : `${amountMinor} ${currency} minor units`
}

// ---------------------------------------------------------------------------------------------
// Parsing what donors type

/** Symbols and codes that may stand next to an amount in each currency. */
const ownMarkers: Record<Currency, string[]> = {
  USD: ['$', 'us$', 'usd'],
  GBP: ['£', 'gbp'],
  NZD: ['$', 'nz$', 'nzd'],
}
const displaySymbol: Record<Currency, string> = { USD: '$', GBP: '£', NZD: 'NZ$' }

// Markers of currencies we could be confused with: typing one means the donor thinks in another
// currency, so we ask rather than guess.
const foreignMarkers = ['$', '£', '€', '¥', '₹', '₩', '฿', 'us$', 'nz$', 'a$', 'au$', 'c$', 'ca$', 's$', 'sg$', 'hk$', 'usd', 'gbp', 'nzd', 'eur', 'aud', 'cad', 'sgd', 'thb', 'jpy']

const wholeDigits = 12 // beyond any limit we set, and still far inside the safe range

export type ParseResult = { ok: true; amountMinor: number } | { ok: false; error: string }

/**
 * Reads an amount a donor typed ("1,000.50", "£25", "$ 1,000") as minor units. Commas are only
 * thousands separators and the dot the only decimal mark: "25,50" is refused with a hint rather
 * than read as 2,550 or 25.50, because a wrong guess charges the wrong amount.
 */
export function parseAmount(input: string, currency: Currency, options: { maxMinor?: number } = {}): ParseResult {
  const maxMinor = options.maxMinor ?? donationLimits[currency].maxMinor
  checkInteger('maxMinor', maxMinor)
  const fail = (error: string): ParseResult => ({ ok: false, error })
  const example = `Enter the amount in digits, like 25 or 1,000.50`
  const text = input.trim()
  if (text === '') return fail('Enter an amount.')

  const parts = /^([^\d.,]*?)\s*([\d.,]+)\s*([^\d.,]*)$/u.exec(text)
  if (!parts) return fail(`${example}.`)
  const [, before = '', number = '', after = ''] = parts
  if (/[-−–]/u.test(before) || /[-−–]/u.test(after)) return fail('Enter an amount above zero.')

  for (const marker of [before, after].map((m) => m.replace(/\s+/gu, '').toLowerCase()).filter(Boolean)) {
    if (ownMarkers[currency].includes(marker)) continue
    if (foreignMarkers.includes(marker)) {
      return fail(`This gift is in ${currencyNames[currency]}: enter the amount without another currency's symbol, like ${displaySymbol[currency]}25.`)
    }
    return fail(`${example}.`)
  }

  if (/^\d+,\d{1,2}$/u.test(number)) return fail('Use a dot for decimals, like 25.50.')
  const shape = /^(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d*))?$/u.exec(number)
  if (!shape || (shape[1] === '' && !shape[2])) return fail(`${example}.`)
  const wholePart = (shape[1] ?? '').replaceAll(',', '').replace(/^0+(?=\d)/u, '')
  const digits = fractionDigits[currency]
  const fraction = (shape[2] ?? '').replace(/0+$/u, '')
  if (fraction.length > digits) return fail(`Use at most ${digits} digits after the dot.`)

  const formattedMax = formatMoney(maxMinor, currency, { whole: true })
  const tooLarge = `The most we can take in one online gift is ${formattedMax}. For a larger gift, please contact us.`
  if (wholePart.length > wholeDigits) return fail(tooLarge)
  const amountMinor = Number(BigInt(wholePart || '0') * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0'))
  if (amountMinor === 0) return fail('Enter an amount above zero.')
  if (amountMinor > maxMinor) return fail(tooLarge)
  return { ok: true, amountMinor }
}

// ---------------------------------------------------------------------------------------------
// Exact arithmetic

export type Rounding = 'floor' | 'ceil' | 'half-up'

/**
 * numerator ÷ denominator rounded as asked. floor and ceil are mathematical (toward −∞ / +∞);
 * half-up rounds halves away from zero, like BigDecimal's HALF_UP, so a reversal of −x rounds
 * to exactly the negative of x.
 */
function divide(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator < 0n) return divide(-numerator, -denominator, rounding)
  const quotient = numerator / denominator // truncates toward zero
  const remainder = numerator % denominator
  if (remainder === 0n) return quotient
  const negative = numerator < 0n
  switch (rounding) {
    case 'floor':
      return negative ? quotient - 1n : quotient
    case 'ceil':
      return negative ? quotient : quotient + 1n
    case 'half-up': {
      const twice = (remainder < 0n ? -remainder : remainder) * 2n
      if (twice < denominator) return quotient
      return negative ? quotient - 1n : quotient + 1n
    }
  }
}

/** amount × num ÷ den, exactly, then rounded: a 2:1 match is multiplyRatio(gift, 2, 1). */
export function multiplyRatio(amountMinor: number, num: number, den: number, rounding: Rounding = 'floor'): number {
  checkInteger('amountMinor', amountMinor)
  checkInteger('num', num)
  checkInteger('den', den)
  if (den === 0) throw new RangeError('den must not be zero')
  return toSafeNumber(divide(BigInt(amountMinor) * BigInt(num), BigInt(den), rounding), 'multiplyRatio result')
}

/**
 * Splits a total in proportion to weights by largest remainder: the parts sum to the total
 * exactly and each is within one minor unit of its exact share. Ties go to the earlier weight,
 * so the split is deterministic; a zero weight always gets zero. A negative total splits as the
 * mirror image of the positive one, so a reversal undoes an allocation part by part.
 */
export function allocate(totalMinor: number, weights: number[]): number[] {
  checkInteger('totalMinor', totalMinor)
  if (weights.length === 0) throw new RangeError('allocate needs at least one weight')
  for (const w of weights) {
    checkInteger('weight', w)
    if (w < 0) throw new RangeError(`weights must not be negative, got ${w}`)
  }
  const sum = weights.reduce((a, w) => a + BigInt(w), 0n)
  if (sum === 0n) {
    if (totalMinor === 0) return weights.map(() => 0)
    throw new RangeError('cannot allocate a non-zero total over weights that are all zero')
  }
  const sign = totalMinor < 0 ? -1n : 1n
  const total = BigInt(Math.abs(totalMinor))
  const shares = weights.map((w, index) => {
    const exact = total * BigInt(w)
    return { index, base: exact / sum, remainder: exact % sum }
  })
  let left = total - shares.reduce((a, s) => a + s.base, 0n)
  const order = [...shares].sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1))
  for (const share of order) {
    if (left === 0n) break
    share.base += 1n
    left -= 1n
  }
  return shares.map((s) => Number(s.base * sign) + 0) // + 0 turns −0 into 0
}

/**
 * Converts an amount at a decimal rate string ("1.27345": 1 unit of the source is 1.27345 of
 * the target). The rate stays a string end to end so no float ever touches it; both currencies
 * here use two decimals, so minor units convert directly.
 */
export function convertMinor(amountMinor: number, rate: string, rounding: 'half-up' | 'floor' = 'half-up'): number {
  checkInteger('amountMinor', amountMinor)
  const match = /^(\d+)(?:\.(\d+))?$/.exec(rate.trim())
  if (!match) throw new RangeError(`rate must be a positive decimal string like "1.27345", got ${JSON.stringify(rate)}`)
  const fraction = match[2] ?? ''
  const scaled = BigInt(match[1]! + fraction)
  if (scaled === 0n) throw new RangeError('rate must be above zero')
  const result = divide(BigInt(amountMinor) * scaled, 10n ** BigInt(fraction.length), rounding)
  return toSafeNumber(result, 'convertMinor result')
}

/** A card fee estimate: percentage in basis points (290 = 2.9 %) plus a fixed part. */
export interface FeeEstimate {
  percentBps: number
  fixedMinor: number
}

function feeFor(chargedMinor: number, fee: FeeEstimate): number {
  return Number(divide(BigInt(chargedMinor) * BigInt(fee.percentBps), 10_000n, 'half-up')) + fee.fixedMinor
}

/**
 * "Cover the fee": the smallest charge C whose estimated fee leaves at least the donor's chosen
 * gift, i.e. C − (round_half_up(C × bps / 10000) + fixed) ≥ net. The closed form lands within a
 * unit or two of C; the walk makes it exact, and it is short because C − fee(C) never decreases
 * as C grows (the percentage part moves by at most one unit per unit of C).
 */
export function grossUpForFee(netMinor: number, fee: FeeEstimate): { chargedMinor: number; feeMinor: number } {
  checkInteger('netMinor', netMinor)
  checkInteger('percentBps', fee.percentBps)
  checkInteger('fixedMinor', fee.fixedMinor)
  if (netMinor < 0) throw new RangeError('netMinor must not be negative')
  if (fee.percentBps < 0 || fee.percentBps >= 10_000) throw new RangeError('percentBps must be between 0 and 9999')
  if (fee.fixedMinor < 0) throw new RangeError('fixedMinor must not be negative')
  const enough = (c: number) => c - feeFor(c, fee) >= netMinor
  let charged = toSafeNumber(
    divide(BigInt(netMinor + fee.fixedMinor) * 10_000n, BigInt(10_000 - fee.percentBps), 'ceil'),
    'grossUpForFee result',
  )
  while (charged > netMinor && enough(charged - 1)) charged -= 1
  while (!enough(charged)) charged += 1
  checkInteger('chargedMinor', charged)
  return { chargedMinor: charged, feeMinor: charged - netMinor }
}
