import { describe, expect, test } from 'vitest'
import { countries, parseDonationForm } from '#app/utils/donation-form.ts'

const designationIds = ['love-packs', 'survivor-fund', 'caregiver-training', 'unrestricted']
const valid = {
  amountPreset: '5000',
  customAmount: '',
  frequency: 'one_off',
  currency: 'USD',
  designationId: 'survivor-fund',
  tributeType: 'none',
  tributeName: '',
  name: '  Ada Lovelace ',
  email: ' Ada@Example.org ',
  country: 'GB',
  website: '',
}

const parse = (overrides: Record<string, string | undefined> = {}) => parseDonationForm({ ...valid, ...overrides }, { designationIds })

function errorsOf(overrides: Record<string, string | undefined>) {
  const result = parse(overrides)
  if (result.ok) throw new Error('expected the form to be refused')
  return result.errors
}

describe('parseDonationForm', () => {
  test('a valid form becomes a typed gift', () => {
    const result = parse({ coverFee: 'on', anonymous: 'on' })
    expect(result).toEqual({
      ok: true,
      values: expect.any(Object),
      data: {
        amountMinor: 5000,
        currency: 'USD',
        frequency: 'one_off',
        designationId: 'survivor-fund',
        coverFee: true,
        tribute: null,
        anonymous: true,
        name: 'Ada Lovelace',
        email: 'ada@example.org',
        country: 'GB',
        partnerChoice: 'auto',
        giftAid: null,
      },
    })
  })

  test('a Gift Aid declaration needs pounds, the UK entity, a home address and a real postcode', () => {
    const declaration = { giftAid: 'on', giftAidFirstName: 'Ada', giftAidLastName: 'Lovelace', giftAidHouse: '12', giftAidAddress: 'St James Square, London', giftAidPostcode: 'sw1y4jh' }
    const ok = parse({ ...declaration, currency: 'GBP', country: 'GB' })
    expect(ok.ok && ok.data.giftAid).toEqual({ title: null, firstName: 'Ada', lastName: 'Lovelace', houseNameOrNumber: '12', addressLine: 'St James Square, London', postcode: 'SW1Y 4JH' })
    const dollars = parse({ ...declaration, currency: 'USD', country: 'GB' })
    expect(!dollars.ok && dollars.errors.giftAid).toMatch(/pounds/)
    const usEntity = parse({ ...declaration, currency: 'GBP', country: 'GB', partner: 'us' })
    expect(!usEntity.ok && usEntity.errors.giftAid).toMatch(/LIFT International UK/)
    const incomplete = parse({ giftAid: 'on', currency: 'GBP', country: 'GB', giftAidPostcode: 'not a postcode' })
    expect(!incomplete.ok && incomplete.errors).toMatchObject({
      giftAidFirstName: expect.any(String),
      giftAidLastName: expect.any(String),
      giftAidHouse: expect.any(String),
      giftAidAddress: expect.any(String),
      giftAidPostcode: 'Enter a UK postcode like SW1A 1AA.',
    })
  })

  test('an unknown fiscal partner choice is a field error', () => {
    const result = parse({ partner: 'fr' })
    expect(!result.ok && result.errors.partner).toBe('Choose which LIFT entity receives your gift.')
  })

  test('works the same from FormData', () => {
    const form = new FormData()
    for (const [key, value] of Object.entries(valid)) form.set(key, value)
    form.set('frequency', 'monthly')
    form.set('customAmount', '£1,000.50')
    form.set('currency', 'GBP')
    const result = parseDonationForm(form, { designationIds })
    expect(result.ok && result.data).toMatchObject({ amountMinor: 100050, currency: 'GBP', frequency: 'monthly', coverFee: false, anonymous: false })
  })

  test('a typed amount wins over the preset', () => {
    const result = parse({ customAmount: '75' })
    expect(result.ok && result.data.amountMinor).toBe(7500)
  })

  test.each([
    ['-5', 'Enter an amount above zero.'],
    ['1.005', 'Use at most 2 digits after the dot.'],
    ['abc', 'Enter the amount in digits, like 25 or 1,000.50.'],
    ['25,50', 'Use a dot for decimals, like 25.50.'],
    ['25001', 'The most we can take in one online gift is $25,000. For a larger gift, please contact us.'],
    ['4.99', 'The smallest gift we can take online is $5.'],
  ])('custom amount %j is refused with a message', (customAmount, message) => {
    expect(errorsOf({ customAmount })).toEqual({ customAmount: message })
  })

  test('presets must be one of ours', () => {
    expect(errorsOf({ amountPreset: '1' })).toEqual({ amountPreset: 'Choose one of the amounts shown or enter your own.' })
    expect(errorsOf({ amountPreset: '' })).toEqual({ amountPreset: 'Choose an amount or enter your own.' })
    expect(errorsOf({ amountPreset: 'custom' })).toEqual({ customAmount: 'Choose an amount or enter your own.' })
  })

  test('a tribute needs a name, and names have a limit', () => {
    expect(errorsOf({ tributeType: 'memory' })).toEqual({ tributeName: "Enter the name of the person you're giving in memory of." })
    expect(errorsOf({ tributeType: 'honour', tributeName: 'x'.repeat(121) })).toEqual({ tributeName: 'Keep the name to 120 characters or fewer.' })
    const result = parse({ tributeType: 'honour', tributeName: ' Grandma Rose ' })
    expect(result.ok && result.data.tribute).toEqual({ type: 'honour', name: 'Grandma Rose' })
  })

  test('every field is checked, and all problems come back at once in form order', () => {
    const errors = errorsOf({
      customAmount: '-1',
      frequency: 'weekly',
      currency: 'USD',
      designationId: 'yachts',
      tributeType: 'honour',
      name: ' ',
      email: 'not-an-email',
      country: 'XX',
    })
    expect(Object.keys(errors)).toEqual(['customAmount', 'frequency', 'designationId', 'tributeName', 'name', 'email', 'country'])
    expect(errors.email).toBe('Enter an email address like name@example.com.')
    expect(errors.country).toBe('Choose your country.')
  })

  test('missing fields get plain messages', () => {
    const result = parseDonationForm({}, { designationIds })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.errors).toMatchObject({
        frequency: 'Choose a one-off or a monthly gift.',
        currency: 'Choose a currency.',
        designationId: 'Choose what your gift funds.',
        name: 'Enter your name.',
        email: 'Enter your email address.',
        country: 'Choose your country.',
      })
    }
  })

  test('an unknown currency is refused', () => {
    expect(errorsOf({ currency: 'EUR' })).toEqual({ currency: 'Choose a currency.' })
  })

  test('the honeypot must stay empty and is never echoed back', () => {
    const result = parse({ website: 'https://spam.example' })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(Object.keys(result.errors)).toEqual(['website'])
      expect(result.values).not.toHaveProperty('website')
      expect(result.values.name).toBe('  Ada Lovelace ')
    }
  })

  test('the country list holds the countries we serve', () => {
    const codes = countries.map(([code]) => code)
    for (const code of ['US', 'GB', 'NZ', 'TH', 'AU', 'CA', 'IE', 'DE', 'FR', 'SG']) expect(codes).toContain(code)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
