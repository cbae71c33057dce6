// The donation form's one schema, run in the browser on submit and again in the action, so a
// donor sees the same message either way and the server never trusts the browser's verdict.
// Browser-safe: no server imports. Field names are the form's `name` attributes, and errors are
// keyed by them so each message lands next to its input.
import { z } from 'zod'
import { choosePartner } from './fiscal-partner-choice.ts'
import { giftAidApplies, normalisePostcode } from './gift-aid.ts'
import { currencies, donationLimits, formatMoney, isCurrency, parseAmount, type Currency } from './money.ts'

/** Preset amounts in minor units; the same figures read naturally in all three currencies. */
export const amountPresets: Record<Currency, readonly number[]> = {
  USD: [2500, 5000, 10000, 25000],
  GBP: [2500, 5000, 10000, 25000],
  NZD: [2500, 5000, 10000, 25000],
}

/**
 * Countries we list. The UK, US and New Zealand have their own fiscal partner (a gift to it counts for tax there);
 * every other country gives through the home entity. ISO 3166-1 alpha-2.
 */
export const countries = [
  ['US', 'United States'],
  ['GB', 'United Kingdom'],
  ['NZ', 'New Zealand'],
  ['AU', 'Australia'],
  ['CA', 'Canada'],
  ['IE', 'Ireland'],
  ['TH', 'Thailand'],
  ['SG', 'Singapore'],
  ['HK', 'Hong Kong'],
  ['JP', 'Japan'],
  ['KR', 'South Korea'],
  ['MY', 'Malaysia'],
  ['PH', 'Philippines'],
  ['IN', 'India'],
  ['ZA', 'South Africa'],
  ['AE', 'United Arab Emirates'],
  ['DE', 'Germany'],
  ['FR', 'France'],
  ['NL', 'Netherlands'],
  ['BE', 'Belgium'],
  ['CH', 'Switzerland'],
  ['AT', 'Austria'],
  ['ES', 'Spain'],
  ['IT', 'Italy'],
  ['PT', 'Portugal'],
  ['SE', 'Sweden'],
  ['NO', 'Norway'],
  ['DK', 'Denmark'],
  ['FI', 'Finland'],
  ['BR', 'Brazil'],
  ['MX', 'Mexico'],
] as const satisfies readonly (readonly [string, string])[]
export type CountryCode = (typeof countries)[number][0]
const countryCodes = countries.map(([code]) => code) as [CountryCode, ...CountryCode[]]

export const frequencies = ['one_off', 'monthly'] as const
/** Who receives and receipts the gift: chosen from the donor's country unless they pick one. */
export const partnerChoices = ['auto', 'us', 'uk', 'nz'] as const
export const tributeTypes = ['none', 'honour', 'memory'] as const

export const donationFields = [
  'amountPreset',
  'customAmount',
  'frequency',
  'currency',
  'designationId',
  'coverFee',
  'tributeType',
  'tributeName',
  'anonymous',
  'name',
  'email',
  'country',
  'partner',
  'giftAid',
  'giftAidTitle',
  'giftAidFirstName',
  'giftAidLastName',
  'giftAidHouse',
  'giftAidAddress',
  'giftAidPostcode',
  'website',
] as const
export type DonationField = (typeof donationFields)[number]
export type DonationFieldErrors = Partial<Record<DonationField, string>>
/** What the donor typed, echoed back so a failed submission keeps their answers. */
export type DonationFormValues = Partial<Record<DonationField, string>>

const nameMax = 120
/** A checkbox: present ("on") when ticked, absent otherwise. */
const checkbox = z
  .string()
  .optional()
  .transform((v) => v === 'on' || v === 'true')

/**
 * Typed text is one line of printable characters. A control character is a paste gone wrong or a
 * probe, and a NUL is one PostgreSQL cannot store: refused here, with the field named, rather than
 * failing the insert.
 */
const controlCharacters = /\p{Cc}/gu
const printable = [(value: string) => withoutControlCharacters(value) === value, 'Remove the invisible control characters (a tab, a line break) from this field.'] as const

/** The longest address SMTP can deliver to (RFC 5321). */
export const maxEmailLength = 254

/** The text with its control characters (NUL, tab, line breaks) removed. */
export function withoutControlCharacters(value: string): string {
  return value.replace(controlCharacters, '')
}

export function createDonationFormSchema(options: { designationIds: readonly string[] }) {
  return z
    .object({
      amountPreset: z.string().default(''),
      customAmount: z.string().max(40, 'Enter the amount in digits, like 25 or 1,000.50.').default(''),
      frequency: z.enum(frequencies, { error: 'Choose a one-off or a monthly gift.' }),
      currency: z.enum(currencies, { error: 'Choose a currency.' }),
      designationId: z
        .string({ error: 'Choose what your gift funds.' })
        .refine((id) => options.designationIds.includes(id), 'Choose what your gift funds.'),
      coverFee: checkbox,
      tributeType: z.enum(tributeTypes, { error: 'Choose whether this gift honours someone.' }).default('none'),
      tributeName: z
        .string()
        .trim()
        .max(nameMax, `Keep the name to ${nameMax} characters or fewer.`)
        .refine(...printable)
        .default(''),
      anonymous: checkbox,
      name: z
        .string({ error: 'Enter your name.' })
        .trim()
        .min(1, 'Enter your name.')
        .max(nameMax, `Keep your name to ${nameMax} characters or fewer.`)
        .refine(...printable),
      email: z
        .string({ error: 'Enter your email address.' })
        .trim()
        .toLowerCase()
        .min(1, 'Enter your email address.')
        .pipe(z.email('Enter an email address like name@example.com.').max(maxEmailLength, 'That email address is too long.')),
      country: z.enum(countryCodes, { error: 'Choose your country.' }),
      partner: z.enum(partnerChoices, { error: 'Choose which LIFT entity receives your gift.' }).default('auto'),
      giftAid: checkbox,
      giftAidTitle: z.string().trim().max(4, 'Keep the title to 4 characters, like Mr, Ms or Dr.').refine(...printable).default(''),
      giftAidFirstName: z.string().trim().max(35, 'HMRC allows 35 characters for a first name.').refine(...printable).default(''),
      giftAidLastName: z.string().trim().max(35, 'HMRC allows 35 characters for a surname.').refine(...printable).default(''),
      giftAidHouse: z.string().trim().max(40, 'Keep the house name or number short.').refine(...printable).default(''),
      giftAidAddress: z.string().trim().max(200, 'Keep the address to 200 characters.').refine(...printable).default(''),
      giftAidPostcode: z.string().trim().max(10, 'Enter a UK postcode like SW1A 1AA.').refine(...printable).default(''),
      // A hidden field people never see or fill in; bots that fill every input do.
      website: z.string().max(0, 'We could not accept this form. Please reload the page and try again.').default(''),
    })
    // Cross-field rules run even when another field failed, so the donor sees every problem at
    // once; the values may then be partly invalid, hence the defensive reads.
    .superRefine(
      (form, ctx) => {
        const raw = form as Partial<typeof form>
        if (typeof raw.currency === 'string' && isCurrency(raw.currency)) {
          const amount = readAmount(raw.amountPreset ?? '', raw.customAmount ?? '', raw.currency)
          if (!amount.ok) ctx.addIssue({ code: 'custom', path: [amount.field], message: amount.error })
        }
        if (raw.giftAid) {
          const partner = typeof raw.country === 'string' ? choosePartner(raw.country, raw.partner ?? 'auto').partnerId : null
          if (!partner || typeof raw.currency !== 'string' || !giftAidApplies(partner, raw.currency)) {
            ctx.addIssue({ code: 'custom', path: ['giftAid'], message: 'Gift Aid applies to gifts in pounds (GBP) received by LIFT International UK.' })
          }
          const required: [keyof typeof raw, string][] = [
            ['giftAidFirstName', 'Enter your first name for Gift Aid.'],
            ['giftAidLastName', 'Enter your surname for Gift Aid.'],
            ['giftAidHouse', 'Enter your house name or number.'],
            ['giftAidAddress', 'Enter your home address (not a work address).'],
          ]
          for (const [field, message] of required) if (!raw[field]) ctx.addIssue({ code: 'custom', path: [field], message })
          if (!normalisePostcode(String(raw.giftAidPostcode ?? ''))) {
            ctx.addIssue({ code: 'custom', path: ['giftAidPostcode'], message: 'Enter a UK postcode like SW1A 1AA.' })
          }
        }
        if ((raw.tributeType === 'honour' || raw.tributeType === 'memory') && !raw.tributeName) {
          const whom = raw.tributeType === 'honour' ? 'in honour of' : 'in memory of'
          ctx.addIssue({ code: 'custom', path: ['tributeName'], message: `Enter the name of the person you're giving ${whom}.` })
        }
      },
      { when: () => true },
    )
    .transform((form, ctx) => {
      const amount = readAmount(form.amountPreset, form.customAmount, form.currency)
      if (!amount.ok) {
        ctx.addIssue({ code: 'custom', path: [amount.field], message: amount.error })
        return z.NEVER
      }
      return {
        amountMinor: amount.amountMinor,
        currency: form.currency,
        frequency: form.frequency,
        designationId: form.designationId,
        coverFee: form.coverFee,
        tribute: form.tributeType === 'none' ? null : { type: form.tributeType, name: form.tributeName },
        anonymous: form.anonymous,
        name: form.name,
        email: form.email,
        country: form.country,
        partnerChoice: form.partner,
        giftAid: form.giftAid
          ? {
              title: form.giftAidTitle || null,
              firstName: form.giftAidFirstName,
              lastName: form.giftAidLastName,
              houseNameOrNumber: form.giftAidHouse,
              addressLine: form.giftAidAddress,
              postcode: normalisePostcode(form.giftAidPostcode)!,
            }
          : null,
      }
    })
}

export type DonationForm = z.output<ReturnType<typeof createDonationFormSchema>>

type AmountResult = { ok: true; amountMinor: number } | { ok: false; field: 'amountPreset' | 'customAmount'; error: string }

/** A typed amount wins over a preset: without JavaScript the preset radio stays checked. */
function readAmount(preset: string, custom: string, currency: Currency): AmountResult {
  const limits = donationLimits[currency]
  if (custom.trim() !== '') {
    const parsed = parseAmount(custom, currency, { maxMinor: limits.maxMinor })
    if (!parsed.ok) return { ok: false, field: 'customAmount', error: parsed.error }
    if (parsed.amountMinor < limits.minMinor) {
      return {
        ok: false,
        field: 'customAmount',
        error: `The smallest gift we can take online is ${formatMoney(limits.minMinor, currency, { whole: true })}.`,
      }
    }
    return parsed
  }
  const presetMinor = Number(preset)
  if (preset === '' || preset === 'custom') {
    return { ok: false, field: preset === 'custom' ? 'customAmount' : 'amountPreset', error: 'Choose an amount or enter your own.' }
  }
  if (!amountPresets[currency].includes(presetMinor)) {
    return { ok: false, field: 'amountPreset', error: 'Choose one of the amounts shown or enter your own.' }
  }
  return { ok: true, amountMinor: presetMinor }
}

/** The amount the form's fields name, if they name a valid one: the Gift Aid sentence shows it as the donor types. */
export function chosenAmountMinor(values: DonationFormValues, currency: Currency): number | null {
  const amount = readAmount(values.amountPreset ?? '', values.customAmount ?? '', currency)
  return amount.ok ? amount.amountMinor : null
}

/** The first value of each known field, as plain strings (what both FormData and tests give). */
export function formValues(source: FormData | Record<string, string | undefined>): DonationFormValues {
  const values: DonationFormValues = {}
  for (const field of donationFields) {
    const value = source instanceof FormData ? source.get(field) : source[field]
    if (typeof value === 'string') values[field] = value
  }
  return values
}

export type DonationFormResult =
  | { ok: true; data: DonationForm; values: DonationFormValues }
  | { ok: false; errors: DonationFieldErrors; values: DonationFormValues }

export function parseDonationForm(
  source: FormData | Record<string, string | undefined>,
  options: { designationIds: readonly string[] },
): DonationFormResult {
  const values = formValues(source)
  // The honeypot's value is never echoed back: a person did not type it.
  const { website: _website, ...echo } = values
  const result = createDonationFormSchema(options).safeParse(values)
  if (result.success) return { ok: true, data: result.data, values: echo }
  const found: DonationFieldErrors = {}
  for (const issue of result.error.issues) {
    const field = issue.path[0]
    if (typeof field === 'string' && isField(field) && !found[field]) found[field] = issue.message
  }
  // In the order the fields appear on the form, so the summary reads top to bottom.
  const errors: DonationFieldErrors = {}
  for (const field of donationFields) if (found[field]) errors[field] = found[field]
  return { ok: false, errors, values: echo }
}

function isField(value: string): value is DonationField {
  return (donationFields as readonly string[]).includes(value)
}

/** What the donation action answers; the form renders it whether or not JavaScript ran. */
export type DonationActionResult =
  | { status: 'invalid'; errors: DonationFieldErrors; values: DonationFormValues }
  | { status: 'refused'; message: string; values: DonationFormValues }
  | { status: 'closed'; message: string; values: DonationFormValues }
