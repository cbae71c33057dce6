// What the thank-you says, read from the gift at send time on real PostgreSQL: the gift's date
// where its fiscal partner is (a late US gift on 31 December is not next year's), what remains
// after refunds and disputes (and a notice instead of thanks when nothing does), a covered card fee
// as part of the gift, and the statements each partner's country asks of the letter. Then the
// thank-you page, which says the same amounts the same way.
import { eq } from 'drizzle-orm'
import { beforeEach, describe, expect, test } from 'vitest'
import { giftThankYouKey, sendDueEmails } from '#app/models/email-outbox.server.ts'
import { EmailCompositionError, renderEmail } from '#app/models/email-templates.server.ts'
import { db } from '#app/utils/db.server.ts'
import { createResendTransport } from '#app/utils/email.server.ts'
import { fiscalPartners } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { createCampaign, createCatalog, createDonation } from '#tests/factories.ts'
import { dispute, matchOf, refund, refundFacts, reinstatement, settle, withdrawal } from '#tests/gifts.ts'
import { thanks } from '#tests/checkouts.ts'
import { getResendOutbox } from '#tests/mocks/resend.ts'

let campaignId: number

beforeEach(async () => {
  await createCatalog()
  campaignId = (await createCampaign()).campaign.id
})

const partnerGift = {
  us: { fiscalPartnerId: 'us', currency: 'USD' },
  uk: { fiscalPartnerId: 'uk', currency: 'GBP', campaignFxRate: '1.27000000' },
  nz: { fiscalPartnerId: 'nz', currency: 'NZD', campaignFxRate: '0.59000000' },
} as const

/** A settled gift through a partner; `feeCoveredMinor` is on top of `amountMinor`, as checkout charges it. */
async function settledGift(partner: keyof typeof partnerGift = 'us', options: { amountMinor?: number; feeCoveredMinor?: number } = {}) {
  const amountMinor = options.amountMinor ?? 5_000
  const feeCoveredMinor = options.feeCoveredMinor ?? 0
  const gift = await createDonation({ campaignId, amountMinor, feeCoveredMinor, ...partnerGift[partner] })
  await settle(gift.id, amountMinor + feeCoveredMinor, { currency: partnerGift[partner].currency })
  return gift
}

const resend = () => createResendTransport({ apiKey: 're_test_content', from: 'LIFT International <giving@liftinternational.org>' })
const email = (donationId: string) => renderEmail(db, 'gift-thank-you', { donationId })

describe("the gift's date is the day where its fiscal partner is, with the zone shown", () => {
  // Each is an instant near midnight UTC at which UTC and the partner disagree about the day, and
  // with it the tax year: the US year ends 31 December, NZ's 31 March, the UK's 5 April.
  test.each([
    ['us', '2026-01-01T03:30:00Z', 'December 31, 2025 (EST)', /January 1, 2026/],
    ['nz', '2026-03-31T12:30:00Z', '1 April 2026 (NZDT)', /31 March 2026/],
    ['uk', '2026-04-05T23:30:00Z', '6 April 2026 (BST)', /5 April 2026/],
  ] as const)('%s: settled at %s reads %s', async (partner, settledAt, shown, utcDay) => {
    const gift = await settledGift(partner)
    // The settlement's own time stands in for Stripe's; set after the fact, as the sender reads it.
    await db.update(donations).set({ settledAt: new Date(settledAt) }).where(eq(donations.id, gift.id))
    const { text } = await email(gift.id)
    expect(text).toContain(`arrived on ${shown}.`)
    expect(text).not.toMatch(utcDay)
  })
})

describe('a refund or dispute before sending changes what is thanked', () => {
  test('a gift refunded in full gets a notice, not a thank-you, and the outbox sends that notice', async () => {
    const gift = await settledGift('us')
    await refund(gift.id, refundFacts('re_full', 5_000))
    expect(await sendDueEmails({ transport: resend() })).toMatchObject({ sent: 1 })
    const [sent] = getResendOutbox()
    expect(sent!.subject).toBe('Your payment to Aftercare for Survivors of Trafficking in Thailand was refunded')
    expect(sent!.text).toMatch(/LIFT International received your payment of \$50\.00 USD to Aftercare for Survivors of Trafficking in Thailand on .+, and it was refunded to you in full\./)
    expect(sent!.text).toContain('no receipt applies to it')
    expect(sent!.text).not.toMatch(/thank you|acknowledgement of your gift|No goods or services|One Day's Wages/i)
    const [row] = await db.select().from(emailOutbox).where(eq(emailOutbox.dedupeKey, giftThankYouKey(gift.id)))
    expect(row).toMatchObject({ status: 'sent', subject: sent!.subject })
  })

  test('a gift whose money a dispute withdrew in full gets the notice too', async () => {
    const gift = await settledGift('us')
    await dispute(gift.id, { id: 'dp_whole', amountMinor: 5_000, status: 'needs_response', balances: [withdrawal(5_000)] })
    const { subject, text } = await email(gift.id)
    expect(subject).toBe('Your payment to Aftercare for Survivors of Trafficking in Thailand was taken back')
    expect(text).toMatch(/and it was taken back in full through a dispute with your card issuer\./)
    expect(text).not.toMatch(/thank you/i)
  })

  test('a partly refunded gift is thanked for what remains, with the refund on its own line and the net match', async () => {
    const gift = await settledGift('us', { amountMinor: 10_000, feeCoveredMinor: 330 })
    await refund(gift.id, refundFacts('re_part', 4_330))
    const { subject, text } = await email(gift.id)
    expect(subject).toBe('Thank you for your gift to Aftercare for Survivors of Trafficking in Thailand')
    expect(text).toMatch(/Your gift of \$60\.00 USD to Aftercare for Survivors of Trafficking in Thailand arrived on/)
    expect(text).toMatch(/\n\$43\.30 USD of the \$103\.30 USD you paid was refunded to you, so it is not part of your gift\.\n/)
    // The fee breakdown would claim the partner receives the full $100.00: no longer true.
    expect(text).not.toMatch(/covers card fees/)
    // The match net of the refund's share, exactly as the ledger holds it.
    const net = await matchOf(gift.id)
    expect(net).toBeLessThan(10_000)
    expect(text).toContain(`One Day's Wages added $${(net / 100).toFixed(2)} USD.`)
  })
})

describe('a change after the thank-you may have gone out gets its own notice', () => {
  const changes = async (donationId: string) =>
    (await db.select().from(emailOutbox)).filter((row) => row.template === 'gift-changed' && (row.props as { donationId: string }).donationId === donationId)

  test('a partial refund after the thank-you: what moved, when, and what the gift stands at; once, however often it is seen', async () => {
    const gift = await settledGift('us', { amountMinor: 5_000 })
    expect(await sendDueEmails({ transport: resend() })).toMatchObject({ sent: 1 })
    const facts = refundFacts('re_after', 2_000, { at: new Date('2026-01-01T03:30:00Z') })
    await refund(gift.id, facts)
    await refund(gift.id, facts)
    expect(await changes(gift.id)).toHaveLength(1)
    expect(await sendDueEmails({ transport: resend() })).toMatchObject({ sent: 1 })
    const notice = getResendOutbox().at(-1)!
    expect(notice.subject).toBe('A change to your gift to Aftercare for Survivors of Trafficking in Thailand')
    expect(notice.text).toContain('$20.00 USD of your payment to Aftercare for Survivors of Trafficking in Thailand was refunded to you on December 31, 2025 (EST).')
    expect(notice.text).toContain('Your gift now stands at $30.00 USD of the $50.00 USD you paid.')
    expect(notice.text).toContain('This replaces any earlier acknowledgement of this gift from LIFT International.')
    expect(notice.text).toContain('No goods or services were provided in exchange for this contribution.')
  })

  test('a dispute that takes everything, then gives it back: two notices, each with the standing at send time', async () => {
    const gift = await settledGift('us')
    await sendDueEmails({ transport: resend() })
    await dispute(gift.id, { id: 'dp_after', amountMinor: 5_000, status: 'needs_response', balances: [withdrawal(5_000, { id: 'txn_dp_out' })] })
    await sendDueEmails({ transport: resend() })
    const taken = getResendOutbox().at(-1)!
    expect(taken.text).toMatch(/\$50\.00 USD of your payment to .+ was taken back through a dispute with your card issuer on .+\./)
    expect(taken.text).toContain('Nothing of the $50.00 USD you paid remains as a gift, so no acknowledgement or receipt applies to it.')
    expect(taken.text).not.toMatch(/No goods or services/)
    await dispute(gift.id, { id: 'dp_after', amountMinor: 5_000, status: 'won', balances: [withdrawal(5_000, { id: 'txn_dp_out' }), reinstatement(5_000, { id: 'txn_dp_back' })] })
    await sendDueEmails({ transport: resend() })
    const back = getResendOutbox().at(-1)!
    expect(back.text).toMatch(/A dispute about your payment to .+ was decided in LIFT International's favour, so on .+ \$50\.00 USD came back and is part of your gift again\./)
    expect(back.text).toContain('Your gift now stands at $50.00 USD of the $50.00 USD you paid.')
    expect(await changes(gift.id)).toHaveLength(2)
  })

  test('a refund while the thank-you still waits: no notice, the thank-you itself says it', async () => {
    const gift = await settledGift('us')
    await refund(gift.id, refundFacts('re_before', 2_000))
    expect(await changes(gift.id)).toEqual([])
    await sendDueEmails({ transport: resend() })
    expect(getResendOutbox()).toHaveLength(1)
    expect(getResendOutbox()[0]!.text).toContain('$20.00 USD of the $50.00 USD you paid was refunded to you')
  })
})

test('a covered card fee is part of the gift: the whole charge is headlined, the fee broken out', async () => {
  const gift = await settledGift('us', { amountMinor: 10_000, feeCoveredMinor: 330 })
  const { text } = await email(gift.id)
  expect(text).toMatch(/Your gift of \$103\.30 USD to Aftercare for Survivors of Trafficking in Thailand arrived on/)
  expect(text).toContain('Of this, $3.30 USD covers card fees, so that LIFT International receives the full $100.00 USD.')
  expect(text).not.toMatch(/also covered/)
})

describe("each partner's statements", () => {
  test('US: no goods or services, whatever the amount, and the partner keeps discretion over designations', async () => {
    for (const amountMinor of [500, 24_999, 25_000]) {
      const { text } = await email((await settledGift('us', { amountMinor })).id)
      expect(text).toContain('No goods or services were provided in exchange for this contribution.')
      expect(text).toMatch(/LIFT International keeps full discretion and control over the use of all funds it receives\./)
      expect(text).toContain('Your gift was made to LIFT International, which funds work to end human trafficking in Thailand.')
      expect(text).not.toMatch(/Registered charity/)
    }
  })

  test("UK: the registered charity number from the partner's own row, and no US wording", async () => {
    await db.update(fiscalPartners).set({ registrationNumbers: { charityNumber: '1187654', hmrcReference: 'XR12345' } }).where(eq(fiscalPartners.id, 'uk'))
    const { text } = await email((await settledGift('uk')).id)
    expect(text).toContain('Registered charity number 1187654')
    expect(text).toMatch(/Your gift of £50\.00 GBP to/)
    expect(text).toContain('Your gift was made to LIFT International UK, which funds work to end human trafficking in Thailand.')
    expect(text).not.toMatch(/goods or services|discretion/i)
  })

  test('a UK partner without a charity number is a setup error: the email is not composed without the statement', async () => {
    await db.update(fiscalPartners).set({ registrationNumbers: {} }).where(eq(fiscalPartners.id, 'uk'))
    const gift = await settledGift('uk')
    await expect(email(gift.id)).rejects.toThrow(EmailCompositionError)
  })

  test('NZ: neither the US nor the UK statements', async () => {
    const { text } = await email((await settledGift('nz')).id)
    expect(text).toMatch(/Your gift of NZ\$50\.00 NZD to/)
    expect(text).toContain("This email is LIFT International New Zealand's acknowledgement of your gift.")
    expect(text).not.toMatch(/goods or services|discretion|Registered charity|receipt/i)
  })
})

describe('the thank-you page', () => {
  test('headlines the whole charge as the gift, breaks out the covered fee, and gives every amount its ISO code', async () => {
    const gift = await settledGift('us', { amountMinor: 10_000, feeCoveredMinor: 330 })
    expect(await thanks(gift.id)).toMatchObject({
      state: 'thanked',
      gift: '$103.30 USD',
      feeCovered: { fee: '$3.30 USD', net: '$100.00 USD' },
      partner: 'LIFT International',
      matches: [{ partner: "One Day's Wages", amount: '$100.00 USD' }],
    })
  })

  test('a refund or dispute since shows the gift as it stands, as the email does', async () => {
    const gift = await settledGift('us', { amountMinor: 10_000, feeCoveredMinor: 330 })
    await refund(gift.id, refundFacts('re_page', 4_330))
    expect(await thanks(gift.id)).toMatchObject({
      state: 'thanked',
      gift: '$60.00 USD',
      feeCovered: null,
      removed: { charged: '$103.30 USD', refunded: '$43.30 USD', disputed: null },
      nothingRemains: false,
    })
    await dispute(gift.id, { id: 'dp_page', amountMinor: 10_330, status: 'needs_response', balances: [withdrawal(10_330)] })
    expect(await thanks(gift.id)).toMatchObject({ gift: '$0.00 USD', removed: { disputed: '$103.30 USD' }, nothingRemains: true })
  })

  test('a gift in New Zealand dollars cannot be read as US dollars', async () => {
    const gift = await settledGift('nz')
    expect(await thanks(gift.id)).toMatchObject({ gift: 'NZ$50.00 NZD', feeCovered: null, matches: [{ amount: '$29.50 USD' }] })
  })
})
