// The donation form. Without JavaScript it is a plain POST that the action validates; with it,
// the same schema runs on submit first, so the donor gets the same messages without a round trip.
import { Form, useNavigation } from '@remix-run/react'
import { useEffect, useRef, useState, type FormEvent } from 'react'
import {
  amountPresets,
  chosenAmountMinor,
  countries,
  formValues,
  parseDonationForm,
  type DonationActionResult,
  type DonationFieldErrors,
  type DonationFormValues,
} from '#app/utils/donation-form.ts'
import { giftAidAmountNotYetKnown, giftAidDeclaration, giftAidFooter, giftAidHeader, giftAidPartner } from '#app/utils/gift-aid.ts'
import { currencies, currencyNames, formatMoney, grossUpForFee, isCurrency, type Currency, type FeeEstimate } from '#app/utils/money.ts'
import { ErrorSummary, FieldError, fieldAria, fieldId } from './form-field.tsx'

const form = 'donation'
const defaultCountry: Record<Currency, string> = { USD: 'US', GBP: 'GB', NZD: 'NZ' }

export interface DonationFormProps {
  currency: Currency
  designations: { id: string; name: string; description: string }[]
  defaultDesignationId: string
  result: DonationActionResult | undefined
  /** A cancelled or expired checkout's answers, so the donor does not type them again. */
  initialValues?: DonationFormValues
  /** The fiscal partners' legal names, for the "received by" choice. */
  partners: { id: string; legalName: string }[]
  /** The fee "cover the fee" adds to a gift Gift Aid applies to, if the partner estimates one. */
  giftAidFee: FeeEstimate | null
}

export function DonationForm({ currency: campaignCurrency, designations, defaultDesignationId, result, initialValues, partners, giftAidFee }: DonationFormProps) {
  const submitting = useNavigation().state === 'submitting'
  const [clientErrors, setClientErrors] = useState<DonationFieldErrors | null>(null)
  const values = result?.values ?? initialValues ?? {}
  const errors: DonationFieldErrors = clientErrors ?? (result?.status === 'invalid' && !submitting ? result.errors : {})
  const [currency, setCurrency] = useState<Currency>(values.currency && isCurrency(values.currency) ? values.currency : campaignCurrency)
  const summary = useRef<HTMLDivElement>(null)
  const custom = useRef<HTMLInputElement>(null)
  const customRadio = useRef<HTMLInputElement>(null)
  const formRef = useRef<HTMLFormElement>(null)
  // The Gift Aid sentence names the amount, as HMRC's model does and as it is stored (receipts.md
  // UK-R3): the whole payment, a covered card fee included, worked out as checkout will. Read from
  // the fields once the script runs and whenever they change; before that (or without JavaScript)
  // the sentence says "the amount chosen above", and the review page shows the declaration as
  // recorded, amount and all, before the donor pays.
  const [giftAidAmount, setGiftAidAmount] = useState<string | null>(null)
  const readGiftAidAmount = () => {
    if (!formRef.current) return
    const fields = formValues(new FormData(formRef.current))
    const { currency } = giftAidPartner
    const chosen = chosenAmountMinor(fields, currency)
    const paid = chosen !== null && fields.coverFee === 'on' && giftAidFee ? grossUpForFee(chosen, giftAidFee).chargedMinor : chosen
    setGiftAidAmount(paid === null ? null : formatMoney(paid, currency))
  }
  useEffect(readGiftAidAmount, [giftAidFee])

  // Move focus to the list of problems whenever a new set appears, so it is read out at once.
  const errorKey = Object.entries(errors).join('|')
  useEffect(() => {
    if (errorKey) summary.current?.focus()
  }, [errorKey])

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const parsed = parseDonationForm(new FormData(event.currentTarget), { designationIds: designations.map((d) => d.id) })
    if (parsed.ok) {
      setClientErrors(null)
      return
    }
    event.preventDefault()
    setClientErrors(parsed.errors)
  }

  const money = (minor: number) => formatMoney(minor, currency, { whole: true })
  const presetValue = values.customAmount ? 'custom' : (values.amountPreset ?? '5000')
  const aria = (field: keyof DonationFieldErrors, hint?: string) => fieldAria(form, field, errors, hint)
  const refused = (result?.status === 'refused' || result?.status === 'closed') && !submitting && !clientErrors
  const ukCharity = partners.find((p) => p.id === giftAidPartner.fiscalPartnerId)?.legalName ?? 'LIFT International UK'

  return (
    <Form ref={formRef} method="post" noValidate className="donation-form" onSubmit={onSubmit} onChange={readGiftAidAmount} aria-labelledby="donate-heading">
      <h2 id="donate-heading">Make a gift</h2>
      <ErrorSummary ref={summary} form={form} errors={errors} />
      {refused ? (
        <div className="status-box" role="alert">
          <p>
            <strong>{result.message}</strong>
          </p>
          <p>Nothing was charged.</p>
        </div>
      ) : null}

      <fieldset className="segmented">
        <legend>How often?</legend>
        {(['one_off', 'monthly'] as const).map((frequency, index) => (
          <label key={frequency}>
            <input
              type="radio"
              name="frequency"
              value={frequency}
              id={index === 0 ? fieldId(form, 'frequency') : undefined}
              defaultChecked={(values.frequency ?? 'one_off') === frequency}
            />
            <span>{frequency === 'one_off' ? 'One-off' : 'Monthly'}</span>
          </label>
        ))}
      </fieldset>

      <div className="field">
        <label htmlFor={fieldId(form, 'currency')}>Currency</label>
        <select id={fieldId(form, 'currency')} name="currency" value={currency} onChange={(e) => isCurrency(e.target.value) && setCurrency(e.target.value)} {...aria('currency')}>
          {currencies.map((code) => (
            <option key={code} value={code}>
              {code} · {currencyNames[code]}
            </option>
          ))}
        </select>
        <FieldError form={form} field="currency" errors={errors} />
      </div>

      <fieldset className="amounts" {...aria('amountPreset')}>
        <legend>Amount</legend>
        <div className="amounts__presets">
          {amountPresets[currency].map((preset, index) => (
            <label key={preset} className="chip">
              <input
                type="radio"
                name="amountPreset"
                value={String(preset)}
                id={index === 0 ? fieldId(form, 'amountPreset') : undefined}
                defaultChecked={presetValue === String(preset)}
                onChange={() => {
                  if (custom.current) custom.current.value = ''
                }}
              />
              <span>{money(preset)}</span>
            </label>
          ))}
          <label className="chip">
            <input type="radio" name="amountPreset" value="custom" ref={customRadio} defaultChecked={presetValue === 'custom'} />
            <span>Other</span>
          </label>
        </div>
        <FieldError form={form} field="amountPreset" errors={errors} />
        <div className="field">
          <label htmlFor={fieldId(form, 'customAmount')}>Other amount ({currency})</label>
          <input
            ref={custom}
            id={fieldId(form, 'customAmount')}
            name="customAmount"
            inputMode="decimal"
            autoComplete="off"
            placeholder={`e.g. ${money(7500)}`}
            defaultValue={values.customAmount ?? ''}
            onFocus={() => {
              if (customRadio.current) customRadio.current.checked = true
            }}
            {...aria('customAmount', 'donation-customAmount-hint')}
          />
          <p className="hint" id="donation-customAmount-hint">
            Between {money(500)} and {money(2_500_000)}. Use a dot for cents, like 25.50.
          </p>
          <FieldError form={form} field="customAmount" errors={errors} />
        </div>
      </fieldset>

      <fieldset className="choices" {...aria('designationId')}>
        <legend>What should your gift fund?</legend>
        {designations.map((designation, index) => (
          <label key={designation.id} className="choice">
            <input
              type="radio"
              name="designationId"
              value={designation.id}
              id={index === 0 ? fieldId(form, 'designationId') : undefined}
              defaultChecked={(values.designationId ?? defaultDesignationId) === designation.id}
            />
            <span>
              <strong>{designation.name}</strong>
              <span className="choice__description">{designation.description}</span>
            </span>
          </label>
        ))}
        <FieldError form={form} field="designationId" errors={errors} />
      </fieldset>

      <label className="check">
        <input type="checkbox" name="coverFee" defaultChecked={values.coverFee === 'on'} />
        <span>
          Cover the card fee, so all of my gift reaches survivors
          <span className="hint">We add the estimated card fee (usually about 3%) to your payment.</span>
        </span>
      </label>

      <fieldset className="choices tribute" {...aria('tributeType')}>
        <legend>Dedicate this gift (optional)</legend>
        <div className="segmented">
          {(['none', 'honour', 'memory'] as const).map((type, index) => (
            <label key={type}>
              <input
                type="radio"
                name="tributeType"
                value={type}
                id={index === 0 ? fieldId(form, 'tributeType') : undefined}
                defaultChecked={(values.tributeType ?? 'none') === type}
              />
              <span>{type === 'none' ? 'No' : type === 'honour' ? 'In honour of' : 'In memory of'}</span>
            </label>
          ))}
        </div>
        {/* Hidden by CSS (:has) while "No" is chosen; works with or without JavaScript. */}
        <div className="field tribute__name">
          <label htmlFor={fieldId(form, 'tributeName')}>Their name</label>
          <input id={fieldId(form, 'tributeName')} name="tributeName" maxLength={120} defaultValue={values.tributeName ?? ''} {...aria('tributeName')} />
          <FieldError form={form} field="tributeName" errors={errors} />
        </div>
      </fieldset>

      <fieldset>
        <legend>Your details</legend>
        <div className="field">
          <label htmlFor={fieldId(form, 'name')}>Full name</label>
          <input id={fieldId(form, 'name')} name="name" autoComplete="name" maxLength={120} defaultValue={values.name ?? ''} {...aria('name')} />
          <FieldError form={form} field="name" errors={errors} />
        </div>
        <div className="field">
          <label htmlFor={fieldId(form, 'email')}>Email</label>
          <input
            id={fieldId(form, 'email')}
            name="email"
            type="email"
            autoComplete="email"
            defaultValue={values.email ?? ''}
            {...aria('email', 'donation-email-hint')}
          />
          <p className="hint" id="donation-email-hint">
            For the email acknowledging your gift. We never show it publicly.
          </p>
          <FieldError form={form} field="email" errors={errors} />
        </div>
        <div className="field">
          <label htmlFor={fieldId(form, 'country')}>Country</label>
          <select id={fieldId(form, 'country')} name="country" autoComplete="country" defaultValue={values.country ?? defaultCountry[campaignCurrency]} {...aria('country')}>
            {countries.map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
          <FieldError form={form} field="country" errors={errors} />
        </div>
        <label className="check">
          <input type="checkbox" name="anonymous" defaultChecked={values.anonymous === 'on'} />
          <span>Give anonymously: keep my name off the public list of supporters</span>
        </label>
        <div className="field">
          <label htmlFor={fieldId(form, 'partner')}>Received by</label>
          <select id={fieldId(form, 'partner')} name="partner" defaultValue={values.partner ?? 'auto'} {...aria('partner', 'donation-partner-hint')}>
            <option value="auto">The LIFT entity in my country (recommended)</option>
            {partners.map((p) => (
              <option key={p.id} value={p.id}>
                {p.legalName}
              </option>
            ))}
          </select>
          <p className="hint" id="donation-partner-hint">
            Gifts from the US, UK and New Zealand go to the LIFT charity registered there, which is what lets a gift count for tax there;
            from elsewhere, to LIFT International in the US. You will see which before you pay.
          </p>
          <FieldError form={form} field="partner" errors={errors} />
        </div>
      </fieldset>

      <fieldset className="gift-aid" {...aria('giftAid')}>
        <legend>Gift Aid (UK taxpayers giving in pounds)</legend>
        <p className="hint">{giftAidHeader}</p>
        <label className="check">
          <input type="checkbox" name="giftAid" id={fieldId(form, 'giftAid')} defaultChecked={values.giftAid === 'on'} />
          {/* Both scopes are on the page; the stylesheet shows the one the frequency chosen calls for. */}
          {(['single', 'enduring'] as const).map((scope) => (
            <span key={scope} className={`gift-aid__declaration gift-aid__declaration--${scope}`}>
              {giftAidDeclaration({ scope, amount: giftAidAmount ?? giftAidAmountNotYetKnown, charity: ukCharity })}
            </span>
          ))}
        </label>
        <FieldError form={form} field="giftAid" errors={errors} />
        <div className="gift-aid__details">
          {(
            [
              ['giftAidTitle', 'Title (optional)', 'honorific-prefix', 4],
              ['giftAidFirstName', 'First name', 'given-name', 35],
              ['giftAidLastName', 'Surname', 'family-name', 35],
              ['giftAidHouse', 'House name or number', 'address-line1', 40],
              ['giftAidAddress', 'Home address', 'street-address', 200],
              ['giftAidPostcode', 'Postcode', 'postal-code', 10],
            ] as const
          ).map(([field, label, autoComplete, max]) => (
            <div className="field" key={field}>
              <label htmlFor={fieldId(form, field)}>{label}</label>
              <input id={fieldId(form, field)} name={field} autoComplete={autoComplete} maxLength={max} defaultValue={values[field] ?? ''} {...aria(field)} />
              <FieldError form={form} field={field} errors={errors} />
            </div>
          ))}
        </div>
        <p className="hint">{giftAidFooter(ukCharity)}</p>
      </fieldset>

      {/* Hidden from people (and screen readers); bots that fill in every field give themselves away. */}
      <div className="hp" aria-hidden="true">
        <label htmlFor={fieldId(form, 'website')}>Website</label>
        <input id={fieldId(form, 'website')} name="website" tabIndex={-1} autoComplete="off" defaultValue="" />
      </div>

      <button type="submit" className="button button--primary button--block" disabled={submitting}>
        {submitting ? 'Checking…' : 'Continue to payment'}
      </button>
    </Form>
  )
}
