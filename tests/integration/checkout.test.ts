// Creating a checkout, from the donation form to Stripe: what Stripe is asked for (read back from
// the fake Stripe's own records and the request on the wire), which fiscal partner takes the gift,
// the exact cover-the-fee gross-up, the match reserved before paying (and freed when the checkout
// ends without money), and Gift Aid declarations stored as given.
import { eq, sql } from 'drizzle-orm'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, test } from 'vitest'
import { createCheckout, priceGift } from '#app/models/checkout.server.ts'
import { releaseExpiredReservations } from '#app/models/matching.server.ts'
import { db } from '#app/utils/db.server.ts'
import { donations } from '#db/schema/giving.ts'
import { seedCatalog } from '#db/seed.ts'
import {
  deliverWebhooks,
  donationRow,
  give,
  pledgeFor,
  postGift,
  reservationsOf,
  review,
  stripeSessionOf,
  unwrap,
  validForm,
} from '#tests/checkouts.ts'
import { createCampaign, rowCounts } from '#tests/factories.ts'
import { server } from '#tests/mocks/server.ts'
import { checkoutRequest } from '#tests/support/webhooks.ts'
import { completeCheckout, expireCheckout } from '#tests/mocks/stripe/simulate.ts'

beforeEach(async () => {
  await seedCatalog(db)
})

async function campaignIdOf(slug: string): Promise<number> {
  const { rows } = await db.execute<{ id: number }>(sql`select id from campaigns where slug = ${slug}`)
  return rows[0]!.id
}

describe('the Checkout Session sent to Stripe', () => {
  test('a one-off gift: payment mode, donate button, server-priced line, ids in every metadata, idempotent on the donation', async () => {
    const requests: { idempotencyKey: string | null; body: URLSearchParams }[] = []
    const listener = ({ request }: { request: Request }) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/v1/checkout/sessions') {
        const copy = request.clone()
        void copy.text().then((text) => requests.push({ idempotencyKey: request.headers.get('idempotency-key'), body: new URLSearchParams(text) }))
      }
    }
    server.events.on('request:start', listener)
    // The browser's preset says $25; the typed amount wins, and only the server prices it.
    const donationId = await give({ amountPreset: '2500', customAmount: '80.25', designationId: 'love-packs', email: 'Grace@Example.org' })
    server.events.removeListener('request:start', listener)

    const { partner, session, setup, idempotencyKeys } = await stripeSessionOf(donationId)
    const campaignId = await campaignIdOf('aftercare-thailand')
    const ids = { donation_id: donationId, campaign_id: String(campaignId), designation_id: 'love-packs', fiscal_partner_id: 'us' }
    expect(partner).toBe('us')
    expect(session).toMatchObject({
      mode: 'payment',
      submit_type: 'donate',
      status: 'open',
      currency: 'usd',
      amount_total: 8025,
      client_reference_id: donationId,
      customer_email: 'grace@example.org',
      metadata: ids,
      success_url: `http://localhost:3000/donations/${donationId}/thanks?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `http://localhost:3000/donations/${donationId}/cancel`,
      url: `http://localhost:3000/sandbox/checkout/us/${session.id}`,
    })
    expect(setup.lineItems).toHaveLength(1)
    expect(setup.lineItems[0]).toMatchObject({
      quantity: 1,
      description: 'Gift to Aftercare for Survivors of Trafficking in Thailand',
      price: { currency: 'usd', unit_amount: 8025, recurring: null, type: 'one_time' },
    })
    // Checkout copies none of its own metadata onto the PaymentIntent: it must be sent for it.
    expect(setup.paymentIntentData.metadata).toEqual(ids)
    expect(setup.subscriptionData.metadata).toEqual({})

    expect(requests).toHaveLength(1)
    expect(requests[0]!.idempotencyKey).toBe(`checkout:${donationId}`)
    expect(idempotencyKeys).toEqual([`checkout:${donationId}`])
    expect(requests[0]!.body.get('line_items[0][price_data][unit_amount]')).toBe('8025')
    expect(requests[0]!.body.get('payment_intent_data[metadata][donation_id]')).toBe(donationId)

    // The session expires a little before the match hold does, so a late payment still finds it.
    const [reservation] = await reservationsOf(donationId)
    expect(Math.floor(reservation!.expires_at.getTime() / 1000)).toBe(session.expires_at + 5 * 60)
    expect(session.expires_at - session.created).toBeGreaterThanOrEqual(30 * 60) // Stripe's shortest allowed
    const donation = await donationRow(donationId)
    expect(donation).toMatchObject({ status: 'pending', amount_minor: 8025, fee_covered_minor: 0, charged_minor: 8025, currency: 'USD', designation_id: 'love-packs' })
  })

  test('a monthly gift: subscription mode, monthly recurring prices (fee line too), ids in subscription_data.metadata', async () => {
    const donationId = await give({ frequency: 'monthly', amountPreset: '2500', coverFee: 'on' })
    const { session, setup } = await stripeSessionOf(donationId)
    const donation = await donationRow(donationId)
    expect(donation.recurring_plan_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(session).toMatchObject({ mode: 'subscription', submit_type: 'donate', amount_total: 2606, client_reference_id: donationId })
    expect(setup.lineItems.map((line) => ({ amount: line.price!.unit_amount, recurring: line.price!.recurring && { interval: line.price!.recurring.interval, count: line.price!.recurring.interval_count }, name: line.description }))).toEqual([
      { amount: 2500, recurring: { interval: 'month', count: 1 }, name: 'Monthly gift to Aftercare for Survivors of Trafficking in Thailand' },
      { amount: 106, recurring: { interval: 'month', count: 1 }, name: 'Card fees you chose to cover (part of your gift)' },
    ])
    expect(setup.subscriptionData.metadata).toEqual({
      donation_id: donationId,
      campaign_id: String(await campaignIdOf('aftercare-thailand')),
      designation_id: 'survivor-fund',
      fiscal_partner_id: 'us',
      recurring_plan_id: donation.recurring_plan_id,
    })
    expect(setup.paymentIntentData.metadata).toEqual({})
  })

  test('when Stripe cannot be reached the donor is told nothing was charged, and the match hold is let go', async () => {
    server.use(
      http.post('https://api.stripe.com/v1/checkout/sessions', () =>
        HttpResponse.json({ error: { type: 'api_error', message: 'Stripe is having a moment' } }, { status: 500 }),
      ),
    )
    const result = unwrap(await postGift(validForm))
    expect(result.status).toBe(502)
    expect(result.body).toMatchObject({ status: 'refused', message: 'We could not reach our payment processor. Nothing was charged; please try again in a moment.' })
    const { rows } = await db.execute<{ id: string; status: string }>(sql`select id, status from donations`)
    expect(rows).toEqual([{ id: expect.any(String), status: 'failed' }])
    expect((await reservationsOf(rows[0]!.id)).map((r) => r.status)).toEqual(['released'])
    expect((await pledgeFor()).reserved_minor).toBe(0)
  })
})

describe('which fiscal partner takes the gift', () => {
  test.each([
    ['US', 'auto', 'us', 'LIFT International', 'it is the LIFT charity registered in your country, which is what lets your gift count for tax there'],
    ['GB', 'auto', 'uk', 'LIFT International UK', 'it is the LIFT charity registered in your country, which is what lets your gift count for tax there'],
    ['NZ', 'auto', 'nz', 'LIFT International New Zealand', 'it is the LIFT charity registered in your country, which is what lets your gift count for tax there'],
    ['TH', 'auto', 'us', 'LIFT International', 'LIFT has no entity in your country, so gifts go to LIFT International in the United States'],
    ['DE', 'auto', 'us', 'LIFT International', 'LIFT has no entity in your country, so gifts go to LIFT International in the United States'],
    ['GB', 'nz', 'nz', 'LIFT International New Zealand', 'you chose it'],
    ['US', 'uk', 'uk', 'LIFT International UK', 'you chose it'],
  ])('a donor in %s choosing %s gives to %s, through that entity’s own Stripe account', async (country, choice, partnerId, legalName, reason) => {
    const donationId = await give({ country, partner: choice })
    const { partner, session } = await stripeSessionOf(donationId)
    expect(partner).toBe(partnerId)
    expect(session.url).toBe(`http://localhost:3000/sandbox/checkout/${partnerId}/${session.id}`)
    expect(session.metadata).toMatchObject({ fiscal_partner_id: partnerId })
    expect(await donationRow(donationId)).toMatchObject({ fiscal_partner_id: partnerId, donor_country: country })
    expect(await review(donationId)).toMatchObject({ partner: legalName, partnerReason: reason })
  })
})

describe('covering the card fee', () => {
  // Independent of the app's arithmetic: the estimate the seed gives each partner and currency.
  const fee = (charged: number, bps: number, fixed: number) => Math.floor((charged * bps) / 10_000 + 0.5) + fixed
  test.each([
    // gift, currency, country, partner's estimate, exact charge, shown extra
    [5000, 'USD', 'US', [290, 30], 5180, '$1.80'],
    [100_050, 'USD', 'US', [290, 30], 103_069, '$30.19'],
    [500, 'USD', 'US', [290, 30], 546, '$0.46'],
    [5000, 'GBP', 'GB', [150, 20], 5096, '£0.96'],
    [2500, 'GBP', 'GB', [150, 20], 2558, '£0.58'],
    [5000, 'NZD', 'NZ', [270, 30], 5170, 'NZ$1.70'],
    [5000, 'GBP', 'US', [490, 30], 5289, '£2.89'],
    [5000, 'NZD', 'GB', [325, 20], 5189, 'NZ$1.89'],
  ] as const)('%i %s from %s: the smallest charge that leaves the gift after the estimated fee', async (gift, currency, country, [bps, fixed], charged, extra) => {
    const amount = `${Math.floor(gift / 100)}.${String(gift % 100).padStart(2, '0')}`
    const donationId = await give({ currency, country, customAmount: amount, amountPreset: 'custom', coverFee: 'on' })
    const donation = await donationRow(donationId)
    expect(donation).toMatchObject({ amount_minor: gift, fee_covered_minor: charged - gift, charged_minor: charged, currency })
    // The charity nets the gift, and not a unit less would do.
    expect(charged - fee(charged, bps, fixed)).toBeGreaterThanOrEqual(gift)
    expect(charged - 1 - fee(charged - 1, bps, fixed)).toBeLessThan(gift)

    const { session, setup } = await stripeSessionOf(donationId)
    expect(session.amount_total).toBe(charged)
    expect(setup.lineItems.map((line) => [line.description, line.amount_total])).toEqual([
      ['Gift to Aftercare for Survivors of Trafficking in Thailand', gift],
      ['Card fees you chose to cover (part of your gift)', charged - gift],
    ])
    const page = await review(donationId)
    expect(page.fee).toBe(extra)
  })

  test('without the box ticked there is no fee line and the review shows no extra', async () => {
    const donationId = await give({ amountPreset: '5000' })
    const { setup } = await stripeSessionOf(donationId)
    expect(setup.lineItems).toHaveLength(1)
    expect(await review(donationId)).toMatchObject({ gift: '$50.00', fee: null, total: '$50.00' })
  })

  test('a USD gift to the US entity, fee covered, settles at exactly the chosen gift after Stripe’s fee', async () => {
    const donationId = await give({ amountPreset: '5000', coverFee: 'on' })
    expect(await review(donationId)).toMatchObject({ gift: '$50.00', fee: '$1.80', total: '$51.80' })
    const { session } = await stripeSessionOf(donationId)
    completeCheckout(session.id, { outcome: 'paid' })
    await deliverWebhooks('us')
    expect(await donationRow(donationId)).toMatchObject({ status: 'succeeded', settled_net_minor: 5000, settlement_currency: 'USD' })
  })

  test('priceGift quotes the same figures the checkout charges', async () => {
    expect(await priceGift({ amountMinor: 5000, currency: 'GBP', coverFee: true, country: 'GB', partnerChoice: 'auto' })).toEqual({
      fiscalPartnerId: 'uk',
      partnerReason: 'it is the LIFT charity registered in your country, which is what lets your gift count for tax there',
      amountMinor: 5000,
      feeCoveredMinor: 96,
      chargedMinor: 5096,
    })
    expect(await priceGift({ amountMinor: 5000, currency: 'GBP', coverFee: false, country: 'GB', partnerChoice: 'auto' })).toMatchObject({ feeCoveredMinor: 0, chargedMinor: 5000 })
  })
})

describe('the match, reserved at checkout', () => {
  test('creating the checkout holds the whole match, and the review says so', async () => {
    const before = await pledgeFor()
    const donationId = await give({ amountPreset: '10000' })
    expect((await reservationsOf(donationId)).map((r) => [r.amount_minor, r.portion_minor, r.status])).toEqual([[10_000, 10_000, 'held']])
    expect((await pledgeFor()).reserved_minor).toBe(before.reserved_minor + 10_000)
    const page = await review(donationId)
    expect(page.matches).toEqual([{ partner: "One Day's Wages", amount: '$100.00' }])
    expect(page.matchedAll).toBe(true)
    expect(page.heldUntil).not.toBeNull()
  })

  test('a pound gift is matched at its value in dollars, at the rate of the day', async () => {
    const donationId = await give({ currency: 'GBP', country: 'GB', amountPreset: '5000' })
    expect(await donationRow(donationId)).toMatchObject({ campaign_amount_minor: 6350 })
    expect(await review(donationId)).toMatchObject({ gift: '£50.00', converted: '$63.50', matches: [{ partner: "One Day's Wages", amount: '$63.50' }], matchedAll: true })
  })

  test('near the cap the donor is told before paying that only part is matched', async () => {
    await createCampaign({ slug: 'nearly-full', pledges: [{ capMinor: 3000 }] })
    const donationId = await give({ amountPreset: '5000' }, { slug: 'nearly-full' })
    expect((await reservationsOf(donationId)).map((r) => r.amount_minor)).toEqual([3000])
    expect(await review(donationId)).toMatchObject({ matches: [{ partner: "One Day's Wages", amount: '$30.00' }], matchedAll: false })

    // The next donor finds nothing left, and is told so.
    const next = await give({ amountPreset: '2500', email: 'next@example.org' }, { slug: 'nearly-full' })
    expect(await reservationsOf(next)).toEqual([])
    expect(await review(next)).toMatchObject({ matches: [], hasPledges: true })
  })

  test('a 2:1 match with room for only part of the gift is reported as partial', async () => {
    await createCampaign({ slug: 'double-match', pledges: [{ capMinor: 6000, ratioNum: 2, ratioDen: 1 }] })
    const donationId = await give({ amountPreset: '5000' }, { slug: 'double-match' })
    // $60 of room at 2:1 matches $30 of the $50 gift.
    expect((await reservationsOf(donationId)).map((r) => [r.amount_minor, r.portion_minor])).toEqual([[6000, 3000]])
    expect(await review(donationId)).toMatchObject({ matches: [{ partner: "One Day's Wages", amount: '$60.00' }], matchedAll: false })
  })

  test('a 1:2 match that covers the whole gift is reported as whole', async () => {
    await createCampaign({ slug: 'half-match', pledges: [{ capMinor: 100_000, ratioNum: 1, ratioDen: 2 }] })
    const donationId = await give({ amountPreset: '5000' }, { slug: 'half-match' })
    expect((await reservationsOf(donationId)).map((r) => [r.amount_minor, r.portion_minor])).toEqual([[2500, 5000]])
    expect(await review(donationId)).toMatchObject({ matches: [{ partner: "One Day's Wages", amount: '$25.00' }], matchedAll: true })
  })

  test('a session that expires at Stripe frees the match through checkout.session.expired', async () => {
    const before = await pledgeFor()
    const donationId = await give({ amountPreset: '10000' })
    const { session } = await stripeSessionOf(donationId)
    expireCheckout(session.id)
    expect(await deliverWebhooks('us')).toEqual(['checkout.session.expired'])
    expect(await donationRow(donationId)).toMatchObject({ status: 'expired' })
    expect((await reservationsOf(donationId)).map((r) => r.status)).toEqual(['expired'])
    expect(await pledgeFor()).toMatchObject({ reserved_minor: before.reserved_minor, matched_minor: before.matched_minor })
  })

  test('a hold past its time is voided by the sweeper even if Stripe’s event never comes', async () => {
    const before = await pledgeFor()
    const donationId = await give({ amountPreset: '10000' })
    const [held] = await reservationsOf(donationId)
    expect(await releaseExpiredReservations(db, new Date(held!.expires_at.getTime() - 1000))).toBe(0)
    expect((await pledgeFor()).reserved_minor).toBe(before.reserved_minor + 10_000)
    expect(await releaseExpiredReservations(db, new Date(held!.expires_at.getTime() + 1000))).toBe(1)
    expect((await reservationsOf(donationId)).map((r) => r.status)).toEqual(['expired'])
    expect((await pledgeFor()).reserved_minor).toBe(before.reserved_minor)
  })
})

describe('Gift Aid', () => {
  const giftAid = {
    currency: 'GBP',
    country: 'GB',
    amountPreset: '5000',
    giftAid: 'on',
    giftAidTitle: 'Dr',
    giftAidFirstName: 'Ada',
    giftAidLastName: 'Lovelace',
    giftAidHouse: '12',
    giftAidAddress: 'St James’s Square, London',
    giftAidPostcode: 'sw1y4jh',
  }

  async function declarations() {
    const { rows } = await db.execute<Record<string, unknown>>(sql`
      select donation_id, fiscal_partner_id, scope, wording_version, wording_text, title, first_name, last_name,
             house_name_or_number, address_line, postcode, declared_at from gift_aid_declarations`)
    return rows
  }

  test('a UK taxpayer’s declaration is stored with HMRC’s exact wording, their name and home address, and the time', async () => {
    const before = Date.now()
    const donationId = await give(giftAid)
    const after = Date.now()
    const [declaration, ...others] = await declarations()
    expect(others).toEqual([])
    expect(declaration).toMatchObject({
      donation_id: donationId,
      fiscal_partner_id: 'uk',
      scope: 'single',
      wording_version: 'hmrc-model-2015-10-21',
      wording_text:
        'I want to Gift Aid my donation of £50.00 to LIFT International UK. I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax in the current tax year than the amount of Gift Aid claimed on all my donations it is my responsibility to pay any difference.',
      title: 'Dr',
      first_name: 'Ada',
      last_name: 'Lovelace',
      house_name_or_number: '12',
      address_line: 'St James’s Square, London',
      postcode: 'SW1Y 4JH',
    })
    const declaredAt = new Date(declaration!.declared_at as string).getTime()
    expect(declaredAt).toBeGreaterThanOrEqual(before - 1)
    expect(declaredAt).toBeLessThanOrEqual(after)
    // The review page shows the declaration as recorded, before the donor pays.
    expect(await review(donationId)).toMatchObject({ giftAidWording: declaration!.wording_text, partner: 'LIFT International UK' })
  })

  test('a donor who covers the card fee declares Gift Aid on the whole payment, which is their gift', async () => {
    const donationId = await give({ ...giftAid, coverFee: 'on' })
    const [gift] = await db.select({ amountMinor: donations.amountMinor, chargedMinor: donations.chargedMinor }).from(donations).where(eq(donations.id, donationId))
    // £50.00 with the UK partner's 1.5% + 20p covered is £50.96 (1.5% of £50.96 rounds to 76p, plus 20p).
    expect(gift).toEqual({ amountMinor: 5_000, chargedMinor: 5_096 })
    const [declaration] = await declarations()
    expect(declaration!.wording_text).toMatch(/^I want to Gift Aid my donation of £50\.96 to LIFT International UK\. /)
  })

  test('a monthly donor declares for this and future gifts', async () => {
    await give({ ...giftAid, frequency: 'monthly', amountPreset: '2500' })
    const [declaration] = await declarations()
    expect(declaration).toMatchObject({
      scope: 'enduring',
      wording_text:
        'I want to Gift Aid my donation of £25.00 and any donations I make in the future or have made in the past 4 years to LIFT International UK. I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax than the amount of Gift Aid claimed on all my donations in that tax year it is my responsibility to pay any difference.',
    })
  })

  test.each([
    ['in dollars', { currency: 'USD' }],
    ['to the US entity', { partner: 'us' }],
    ['from a US donor', { country: 'US' }],
  ])('is refused for a gift %s, and nothing is written', async (_, change) => {
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift({ ...validForm, ...giftAid, ...change }))
    expect(status).toBe(400)
    expect(body.errors).toEqual({ giftAid: 'Gift Aid applies to gifts in pounds (GBP) received by LIFT International UK.' })
    expect(await rowCounts()).toEqual(before)
  })

  test('needs a name and a valid UK postcode', async () => {
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift({ ...validForm, ...giftAid, giftAidFirstName: '', giftAidPostcode: '90210' }))
    expect(status).toBe(400)
    expect(body.errors).toEqual({ giftAidFirstName: 'Enter your first name for Gift Aid.', giftAidPostcode: 'Enter a UK postcode like SW1A 1AA.' })
    expect(await rowCounts()).toEqual(before)
  })

  test('createCheckout refuses Gift Aid outside pounds to the UK entity even when called directly', async () => {
    const before = await rowCounts()
    const result = await createCheckout(
      checkoutRequest({
        email: 'ada@example.org',
        country: 'GB',
        giftAid: { title: null, firstName: 'Ada', lastName: 'Lovelace', houseNameOrNumber: '12', addressLine: 'London', postcode: 'SW1A 1AA' },
      }),
    )
    expect(result).toEqual({ ok: false, status: 400, field: 'giftAid', error: 'Gift Aid applies to gifts in pounds to LIFT International UK.' })
    expect(await rowCounts()).toEqual(before)
  })
})

describe('createCheckout called directly checks what the form checks', () => {
  const request = checkoutRequest({ email: 'ada@example.org' })

  test.each([
    [{ amountMinor: 499 }, { ok: false, status: 400, field: 'customAmount', error: 'Gifts in USD must be between $5.00 and $25,000.00.' }],
    [{ amountMinor: 2_500_001, currency: 'NZD' as const }, { ok: false, status: 400, field: 'customAmount', error: 'Gifts in NZD must be between NZ$5.00 and NZ$25,000.00.' }],
    [{ designationId: 'yachts' }, { ok: false, status: 400, field: 'designationId', error: 'Choose what your gift funds.' }],
    [{ campaignSlug: 'caregiver-training-2026' }, { ok: false, status: 404, error: 'We could not find that campaign.' }],
    [{ campaignSlug: 'no-such-campaign' }, { ok: false, status: 404, error: 'We could not find that campaign.' }],
    [{ campaignSlug: 'safe-homes-winter-appeal' }, { ok: false, status: 409, error: 'This campaign is not taking gifts right now.' }],
  ])('%o is refused, and nothing is written', async (change, expected) => {
    const before = await rowCounts()
    expect(await createCheckout({ ...request, ...change })).toEqual(expected)
    expect(await rowCounts()).toEqual(before)
  })
})
