// The thank-you email as the donor reads it: what they gave, to what, what the match added, who
// received it, and the statements that entity's country asks of a letter acknowledging a gift.
// A payment of which nothing is left gets a notice instead, never a thank-you.
import { render } from '@react-email/render'
import { describe, expect, test } from 'vitest'
import {
  GiftChanged,
  giftChangedSubject,
  type GiftChangedProps,
  GiftReversed,
  giftReversedSubject,
  GiftThankYou,
  giftThankYouSubject,
  type GiftReversedProps,
  type GiftThankYouProps,
} from '#emails/gift-thank-you.tsx'

const ukPartner = { legalName: 'LIFT International UK', country: 'GB', charityNumber: '1234567' }
const usPartner = { legalName: 'LIFT International', country: 'US', charityNumber: null }
const nzPartner = { legalName: 'LIFT International New Zealand', country: 'NZ', charityNumber: null }

const base: GiftThankYouProps = {
  donorName: 'Ada Lovelace',
  amount: '£100.00 GBP',
  feeCovered: null,
  removed: null,
  campaignTitle: 'Aftercare for Survivors',
  campaignUrl: 'https://give.example.org/campaigns/aftercare',
  designation: 'Survivor Fund',
  matches: [{ partner: "One Day's Wages", amount: '$50.00 USD' }],
  monthly: false,
  installment: 1,
  partner: ukPartner,
  settledOn: '12 March 2026 (GMT)',
  tribute: null,
  anonymous: false,
}

const text = (props: Partial<GiftThankYouProps> = {}) => render(<GiftThankYou {...base} {...props} />, { plainText: true })

describe('the gift thank-you email', () => {
  test('says what was given, to what, the match it earned, and who received it', async () => {
    const body = await text()
    expect(body).toMatch(/Thank you, Ada/i)
    expect(body).toMatch(/Your gift of £100\.00 GBP to Aftercare for Survivors arrived on 12 March 2026 \(GMT\)\. It goes to Survivor Fund\./)
    expect(body).toMatch(/One Day's Wages added \$50\.00 USD\./)
    expect(body).toMatch(/Match funding is the match partner's own gift, so it is not part of your gift\./)
    expect(body).toContain('https://give.example.org/campaigns/aftercare')
  })

  test("is the receiving entity's acknowledgement and promises no receipt", async () => {
    for (const partner of [ukPartner, usPartner, nzPartner]) {
      const body = await text({ partner })
      expect(body).toContain(`This email is ${partner.legalName}'s acknowledgement of your gift. Please keep it for your records.`)
      // No receipt document is issued today, so none is promised, nor any number shown.
      expect(body).not.toMatch(/receipt/i)
      expect(body).not.toMatch(/tax[- ]deductible/i)
    }
  })

  test('names the fiscal partner as the donee, and Thailand as where the work it funds happens', async () => {
    for (const partner of [ukPartner, usPartner, nzPartner]) {
      const body = await text({ partner })
      expect(body).toContain(`Your gift was made to ${partner.legalName}, which funds work to end human trafficking in Thailand.`)
      expect(body).not.toMatch(/LIFT International works to end human trafficking/)
    }
  })

  test('from the US partner: the goods-or-services statement at every amount, and discretion over designations', async () => {
    for (const amount of ['$5.00 USD', '$249.99 USD', '$250.00 USD', '$10,000.00 USD']) {
      const body = await text({ partner: usPartner, amount })
      expect(body).toContain('No goods or services were provided in exchange for this contribution.')
      expect(body).toContain(
        'Your designation is honoured as your preference; LIFT International keeps full discretion and control over the use of all funds it receives.',
      )
    }
    for (const partner of [ukPartner, nzPartner]) {
      const body = await text({ partner })
      expect(body).not.toMatch(/goods or services|discretion/i)
    }
  })

  test("from the UK partner: its registered charity number; nobody else's", async () => {
    expect(await text({ partner: ukPartner })).toContain('Registered charity number 1234567')
    expect(await text({ partner: usPartner })).not.toMatch(/Registered charity/)
    expect(await text({ partner: nzPartner })).not.toMatch(/Registered charity/)
  })

  test('a covered card fee is part of the gift: the whole charge is headlined, the fee is a breakdown', async () => {
    const body = await text({ amount: '£103.20 GBP', feeCovered: { fee: '£3.20 GBP', net: '£100.00 GBP' } })
    expect(body).toMatch(/Your gift of £103\.20 GBP to Aftercare for Survivors arrived/)
    expect(body).toContain('Of this, £3.20 GBP covers card fees, so that LIFT International UK receives the full £100.00 GBP.')
    expect(body).not.toMatch(/also covered/)
  })

  test('a gift partly refunded or disputed before the email: what remains is the gift, what went back is on its own line', async () => {
    const body = await text({ amount: '£53.20 GBP', removed: { charged: '£103.20 GBP', refunded: '£50.00 GBP', disputed: null } })
    expect(body).toMatch(/Your gift of £53\.20 GBP to Aftercare for Survivors arrived/)
    expect(body).toMatch(/\n£50\.00 GBP of the £103\.20 GBP you paid was refunded to you, so it is not part of your gift\.\n/)
    expect(body).not.toMatch(/dispute/)

    const disputed = await text({ amount: '£80.00 GBP', removed: { charged: '£100.00 GBP', refunded: null, disputed: '£20.00 GBP' } })
    expect(disputed).toContain('£20.00 GBP of the £100.00 GBP you paid was taken back through a dispute with your card issuer, so it is not part of your gift.')
    expect(disputed).not.toMatch(/refunded/)
  })

  test('leaves out what does not apply, and says what does', async () => {
    const plain = await text({ matches: [] })
    expect(plain).not.toMatch(/added|Match funding/)
    expect(plain).not.toMatch(/card fee|monthly|not shown|refunded|dispute/)

    const full = await text({ tribute: { type: 'memory', name: 'Grace Hopper' }, anonymous: true })
    expect(full).toMatch(/It goes to Survivor Fund in memory of Grace Hopper\./)
    expect(full).toMatch(/your name is not shown on the campaign page or to match partners/)
  })

  test('a monthly gift says so, first payment and later ones alike', async () => {
    expect(await text({ monthly: true })).toMatch(/Your first monthly gift of £100\.00 GBP/)
    expect(await text({ monthly: true, installment: 4 })).toMatch(/Your monthly gift \(payment 4\) of £100\.00 GBP[\s\S]*Thank you for giving every month/)
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

describe('the notice for a payment of which nothing remains', () => {
  const reversed: GiftReversedProps = {
    donorName: 'Ada Lovelace',
    charged: '$103.30 USD',
    refunded: '$103.30 USD',
    disputed: null,
    campaignTitle: 'Aftercare for Survivors',
    partner: usPartner,
    settledOn: 'March 12, 2026 (EDT)',
  }
  const notice = (props: Partial<GiftReversedProps> = {}) => render(<GiftReversed {...reversed} {...props} />, { plainText: true })

  test('says the payment was refunded and that no acknowledgement or receipt applies, and thanks for nothing', async () => {
    const body = await notice()
    expect(body).toContain(
      'LIFT International received your payment of $103.30 USD to Aftercare for Survivors on March 12, 2026 (EDT), and it was refunded to you in full.',
    )
    expect(body).toContain('Nothing of it remains as a gift, so this email does not acknowledge a gift and no receipt applies to it.')
    expect(body).not.toMatch(/thank/i)
    expect(body).not.toMatch(/No goods or services/)
    expect(giftReversedSubject(reversed)).toBe('Your payment to Aftercare for Survivors was refunded')
  })

  test('a payment taken back by a dispute, or partly refunded and disputed for the rest, says so', async () => {
    expect(await notice({ refunded: null, disputed: '$103.30 USD' })).toMatch(/and it was taken back in full through a dispute with your card issuer\./)
    expect(await notice({ refunded: '$3.30 USD', disputed: '$100.00 USD' })).toMatch(
      /and \$3\.30 USD of it was refunded to you and \$100\.00 USD taken back through a dispute with your card issuer\./,
    )
    expect(giftReversedSubject({ ...reversed, disputed: '$103.30 USD' })).toBe('Your payment to Aftercare for Survivors was taken back')
  })

  test('a UK notice still carries the registered charity statement', async () => {
    expect(await notice({ partner: ukPartner })).toContain('Registered charity number 1234567')
  })
})

describe('the notice of a change to a gift', () => {
  const change: GiftChangedProps = {
    donorName: 'Ada Lovelace',
    campaignTitle: 'Aftercare',
    partner: { legalName: 'LIFT International UK', country: 'GB', charityNumber: '1187654' },
    kind: 'refund_failure',
    amount: '£20.00 GBP',
    on: '3 March 2026 (GMT)',
    charged: '£50.00 GBP',
    remaining: '£50.00 GBP',
    nothingRemains: false,
  }
  const changed = (props: Partial<GiftChangedProps> = {}) => render(<GiftChanged {...change} {...props} />, { plainText: true })

  test('a failed refund gives the money back to the gift, and says so', async () => {
    const text = await changed()
    expect(text).toContain('A refund of £20.00 GBP from your payment to Aftercare did not go through, so on 3 March 2026 (GMT) that money came back to LIFT International UK and is part of your gift again.')
    expect(text).toContain('Your gift now stands at £50.00 GBP of the £50.00 GBP you paid.')
    expect(text).toContain('Registered charity number 1187654')
    expect(text).not.toMatch(/goods or services/)
  })

  test('each kind of change has its own words', async () => {
    const kinds = ['refund', 'refund_failure', 'dispute_withdrawal', 'dispute_reinstatement'] as const
    const texts = await Promise.all(kinds.map((kind) => changed({ kind })))
    expect(new Set(texts).size).toBe(kinds.length)
    expect(giftChangedSubject(change)).toBe('A change to your gift to Aftercare')
  })
})
