// The thank-you email as the donor reads it: what they gave, to what, what the match added, and
// plainly that this is not their tax receipt.
import { render } from '@react-email/render'
import { describe, expect, test } from 'vitest'
import { GiftThankYou, giftThankYouSubject, type GiftThankYouProps } from '#emails/gift-thank-you.tsx'

const base: GiftThankYouProps = {
  donorName: 'Ada Lovelace',
  amount: '$100.00 USD',
  feeCovered: null,
  campaignTitle: 'Aftercare for Survivors',
  campaignUrl: 'https://give.example.org/campaigns/aftercare',
  designation: 'Survivor Fund',
  matches: [{ partner: "One Day's Wages", amount: '$50.00 USD' }],
  monthly: false,
  installment: 1,
  fiscalPartnerLegalName: 'LIFT International UK',
  settledOn: '12 March 2026',
  tribute: null,
  anonymous: false,
}

const text = (props: Partial<GiftThankYouProps> = {}) => render(<GiftThankYou {...base} {...props} />, { plainText: true })

describe('the gift thank-you email', () => {
  test('says what was given, to what, the match it earned, and who received it', async () => {
    const body = await text()
    expect(body).toMatch(/Thank you, Ada/i)
    expect(body).toMatch(/Your gift of \$100\.00 USD to Aftercare for Survivors arrived on 12 March 2026\. It goes to Survivor Fund\./)
    expect(body).toMatch(/One Day's Wages added \$50\.00 USD\./)
    expect(body).toMatch(/Match funding is the partner's own gift, so it is never part of a tax receipt for your gift\./)
    expect(body).toMatch(/Your gift was received by LIFT International UK/)
    expect(body).toContain('https://give.example.org/campaigns/aftercare')
  })

  test('is plainly not a tax receipt', async () => {
    const body = await text()
    expect(body).toMatch(/This email is a thank-you, not a tax receipt\./)
    // Not every gift earns a receipt (an NZ gift under NZ$5, say), so none is promised.
    expect(body).toMatch(/sends separately any tax receipt or Gift Aid record your gift qualifies for/)
    expect(body).not.toMatch(/your tax receipt follows/)
    expect(body).not.toMatch(/receipt (no|number)|tax[- ]deductible|no goods or services/i)
  })

  test('leaves out what does not apply, and says what does', async () => {
    const plain = await text({ matches: [] })
    expect(plain).not.toMatch(/added|Match funding/)
    expect(plain).not.toMatch(/card fee|monthly|not shown/)

    const full = await text({ feeCovered: { fee: '£3.20 GBP', total: '£103.20 GBP' }, tribute: { type: 'memory', name: 'Grace Hopper' }, anonymous: true })
    expect(full).toMatch(/It goes to Survivor Fund in memory of Grace Hopper\./)
    expect(full).toMatch(/You also covered the card fee of £3\.20 GBP, so £103\.20 GBP was charged in all\./)
    expect(full).toMatch(/your name is not shown on the campaign page or to match partners/)
  })

  test('a monthly gift says so, first payment and later ones alike', async () => {
    expect(await text({ monthly: true })).toMatch(/Your first monthly gift of \$100\.00 USD/)
    expect(await text({ monthly: true, installment: 4 })).toMatch(/Your monthly gift \(payment 4\) of \$100\.00 USD[\s\S]*Thank you for giving every month/)
    expect(giftThankYouSubject({ ...base, monthly: true })).toBe('Thank you for your monthly gift to Aftercare for Survivors')
    expect(giftThankYouSubject({ ...base, monthly: true, installment: 4 })).toBe("Thank you for this month's gift to Aftercare for Survivors")
    expect(giftThankYouSubject(base)).toBe('Thank you for your gift to Aftercare for Survivors')
  })

  test('the HTML escapes what donors typed', async () => {
    const html = await render(<GiftThankYou {...base} donorName="<script>x</script> Ada" tribute={{ type: 'honour', name: '<b>Mum</b>' }} />)
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<b>Mum</b>')
    expect(html).toContain('&lt;b&gt;Mum&lt;/b&gt;')
  })
})
