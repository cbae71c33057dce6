// The donor's side of giving, through the routes: the form's action (bad input, bots, card
// testers), the review page, the thank-you page before and after Stripe's webhook, and going back
// from Stripe to the form with every answer kept. Each refusal is checked against the whole
// database: a bad request writes nothing but, where it says so, the note of why it was refused.
import { sql } from 'drizzle-orm'
import { http, HttpResponse } from 'msw'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { db } from '#app/utils/db.server.ts'
import { seedCatalog } from '#db/seed.ts'
import {
  cancelByForm,
  cancelByLink,
  deliverWebhooks,
  donationRow,
  give,
  loadCampaign,
  pledgeFor,
  postGift,
  reservationsOf,
  review,
  stripeSessionOf,
  thanks,
  thrown,
  unwrap,
  validForm,
} from '#tests/checkouts.ts'
import { rowCounts } from '#tests/factories.ts'
import { getFakeObject } from '#tests/mocks/stripe/state.ts'
import { server } from '#tests/mocks/server.ts'
import { completeCheckout, expireCheckout, settleAsyncPayment } from '#tests/mocks/stripe/simulate.ts'

beforeEach(async () => {
  await seedCatalog(db)
})

afterEach(() => {
  vi.useRealTimers()
})

/** A UK taxpayer's gift in pounds with a Gift Aid declaration, as the form posts it. */
const ukGiftAid = {
  currency: 'GBP',
  country: 'GB',
  giftAid: 'on',
  giftAidFirstName: 'Ada',
  giftAidLastName: 'Lovelace',
  giftAidHouse: '12',
  giftAidAddress: 'St James’s Square, London',
  giftAidPostcode: 'SW1Y 4JH',
}

async function refusals() {
  const { rows } = await db.execute<{ reason: string; route: string; ip: string | null; email: string | null; detail: Record<string, unknown> | null }>(
    sql`select reason, route, ip, email, detail from refused_requests order by id`,
  )
  return rows
}

describe('bad input is a 400 with a clear field error, and nothing is written', () => {
  test.each([
    ['a USD amount below the minimum', { customAmount: '4.99' }, { customAmount: 'The smallest gift we can take online is $5.' }],
    ['a GBP amount below the minimum', { currency: 'GBP', customAmount: '4.99' }, { customAmount: 'The smallest gift we can take online is £5.' }],
    ['an NZD amount above the maximum', { currency: 'NZD', customAmount: '25000.01' }, { customAmount: 'The most we can take in one online gift is NZ$25,000. For a larger gift, please contact us.' }],
    ['three decimals', { customAmount: '10.005' }, { customAmount: 'Use at most 2 digits after the dot.' }],
    ['no amount at all', { amountPreset: '', customAmount: '' }, { amountPreset: 'Choose an amount or enter your own.' }],
    ['a preset the page never offered', { amountPreset: '1' }, { amountPreset: 'Choose one of the amounts shown or enter your own.' }],
    ['a currency we do not take', { currency: 'EUR' }, { currency: 'Choose a currency.' }],
    ['a designation that does not exist', { designationId: 'yachts' }, { designationId: 'Choose what your gift funds.' }],
    ['a frequency we do not offer', { frequency: 'weekly' }, { frequency: 'Choose a one-off or a monthly gift.' }],
    ['a country not on the list', { country: 'XX' }, { country: 'Choose your country.' }],
    ['an entity that does not exist', { partner: 'fr' }, { partner: 'Choose which LIFT entity receives your gift.' }],
    ['a tribute without a name', { tributeType: 'memory', tributeName: '  ' }, { tributeName: "Enter the name of the person you're giving in memory of." }],
    ['no email', { email: '' }, { email: 'Enter your email address.' }],
    ['a malformed email', { email: 'ada@' }, { email: 'Enter an email address like name@example.com.' }],
    // PostgreSQL cannot store a NUL: refused by the form, never a failed insert.
    ['a NUL in a tribute name', { tributeType: 'memory', tributeName: 'Grace\u0000Hopper' }, { tributeName: 'Remove the invisible control characters (a tab, a line break) from this field.' }],
    ['a line break in a Gift Aid address', { ...ukGiftAid, giftAidAddress: 'St James’s Square\nLondon' }, { giftAidAddress: 'Remove the invisible control characters (a tab, a line break) from this field.' }],
  ])('%s', async (_, change, errors) => {
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift({ ...validForm, ...change }))
    expect(status).toBe(400)
    expect(body).toEqual({ status: 'invalid', errors, values: expect.objectContaining({ ...change, name: 'Ada Lovelace' }) })
    expect(await rowCounts()).toEqual(before)
  })

  test('several mistakes are all reported at once, in the order of the form', async () => {
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift({ ...validForm, customAmount: 'lots', designationId: '', name: '', email: 'nope' }))
    expect(status).toBe(400)
    expect(Object.keys(body.errors as object)).toEqual(['customAmount', 'designationId', 'name', 'email'])
    expect(await rowCounts()).toEqual(before)
  })

  test.each(['no-such-campaign', 'caregiver-training-2026'])('an unknown or draft campaign %j is a 404', async (slug) => {
    const before = await rowCounts()
    expect((await thrown(postGift(validForm, { slug }))).status).toBe(404)
    expect(await rowCounts()).toEqual(before)
  })

  test('a finished campaign says it takes no gifts (409)', async () => {
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift(validForm, { slug: 'safe-homes-winter-appeal' }))
    expect(status).toBe(409)
    expect(body).toMatchObject({ status: 'closed', message: 'This campaign is not taking gifts right now.' })
    expect(await rowCounts()).toEqual(before)
  })
})

describe('bots and card testers', () => {
  test('a filled honeypot is a 400 that echoes nothing back, and the refusal is recorded', async () => {
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift({ ...validForm, website: 'http://spam.example' }))
    expect(status).toBe(400)
    expect(body).toMatchObject({ status: 'invalid', errors: { website: 'We could not accept this form. Please reload the page and try again.' } })
    expect(body.values).not.toHaveProperty('website')
    expect(await rowCounts()).toEqual({ ...before, refused_requests: before.refused_requests! + 1 })
    expect(await refusals()).toEqual([{ reason: 'honeypot', route: '/campaigns/aftercare-thailand', ip: '203.0.113.7', email: 'ada@example.org', detail: null }])
  })

  test('a honeypot post whose email holds a NUL is refused and recorded all the same', async () => {
    const before = await rowCounts()
    const { status } = unwrap(await postGift({ ...validForm, email: `ada\u0000${'x'.repeat(300)}@example.org`, website: 'http://spam.example' }))
    expect(status).toBe(400)
    expect(await rowCounts()).toEqual({ ...before, refused_requests: before.refused_requests! + 1 })
    const [refusal] = await refusals()
    expect(refusal).toMatchObject({ reason: 'honeypot', email: expect.stringMatching(/^adax+$/) })
    expect(refusal!.email).toHaveLength(254)
  })

  // Fixed windows: pin the clock a minute into one, so the test never straddles two.
  function pinClock() {
    const windowMs = 10 * 60_000
    const at = new Date(Math.floor(Date.now() / windowMs) * windowMs + 60_000)
    vi.useFakeTimers({ toFake: ['Date'], now: at })
  }

  test('a sixth checkout for one email within ten minutes is a 429 that says how long to wait, and is recorded', async () => {
    pinClock()
    for (let i = 0; i < 5; i++) await give({ email: 'tester@example.org' }, { clientIp: `198.51.100.${i}` })
    const before = await rowCounts()
    const result = await postGift({ ...validForm, email: 'Tester@Example.org' }, { clientIp: '198.51.100.99' })
    const { status, headers, body } = unwrap(result)
    expect(status).toBe(429)
    expect(headers.get('retry-after')).toBe('540')
    expect(body).toEqual({ status: 'refused', message: 'Too many attempts: please wait 9 minutes and try again.', values: expect.objectContaining({ email: 'Tester@Example.org' }) })
    const after = await rowCounts()
    expect(after.donations).toBe(before.donations)
    expect(after.match_reservations).toBe(before.match_reservations)
    expect(after.ledger_entries).toBe(before.ledger_entries)
    expect(after.refused_requests).toBe(before.refused_requests! + 1)
    expect(await refusals()).toEqual([
      { reason: 'rate limit per email', route: '/campaigns/aftercare-thailand', ip: '198.51.100.99', email: 'tester@example.org', detail: { retryAfterSeconds: 540 } },
    ])
  })

  test('an eleventh checkout from one address within ten minutes is a 429, whatever the email', async () => {
    pinClock()
    for (let i = 0; i < 10; i++) await give({ email: `donor${i}@example.org` })
    const before = await rowCounts()
    const { status, body } = unwrap(await postGift({ ...validForm, email: 'donor10@example.org' }))
    expect(status).toBe(429)
    expect(body).toMatchObject({ status: 'refused', message: 'Too many attempts: please wait 9 minutes and try again.' })
    const after = await rowCounts()
    expect([after.donations, after.match_reservations, after.refused_requests]).toEqual([before.donations, before.match_reservations, before.refused_requests! + 1])
    expect(await refusals()).toEqual([expect.objectContaining({ reason: 'rate limit per ip', ip: '203.0.113.7' })])
    // A fresh window lets them give again.
    vi.setSystemTime(new Date(Date.now() + 10 * 60_000))
    await give({ email: 'donor10@example.org' })
  })
})

/** Cookies of browsers other than the donor's: none, and one naming the gift with a wrong secret. */
const otherBrowsers = (donationId: string) => ['', `lift_resume=${encodeURIComponent(btoa(JSON.stringify({ donationId, token: 'x'.repeat(43) })))}`]

describe('the review, thank-you and cancel pages', () => {
  test.each(['not-a-uuid', '00000000-0000-0000-0000-00000000000', "1' or '1'='1", ''])('a malformed gift id %j is a 404 everywhere, and nothing is written', async (id) => {
    const before = await rowCounts()
    expect((await thrown(review(id))).status).toBe(404)
    expect((await thrown(thanks(id))).status).toBe(404)
    expect((await thrown(cancelByLink(id))).status).toBe(404)
    expect((await thrown(cancelByForm(id))).status).toBe(404)
    expect(await rowCounts()).toEqual(before)
  })

  test('an unknown gift id is a 404 too', async () => {
    const id = '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f'
    const before = await rowCounts()
    for (const page of [review, thanks, cancelByLink, cancelByForm]) expect((await thrown(page(id))).status).toBe(404)
    expect(await rowCounts()).toEqual(before)
  })

  test('the review shows the gift, the fee, the match, the entity and why, the tribute, and links to Stripe', async () => {
    const donationId = await give({ amountPreset: '10000', coverFee: 'on', tributeType: 'honour', tributeName: 'Mum', designationId: 'love-packs' })
    const { session } = await stripeSessionOf(donationId)
    expect(await review(donationId)).toMatchObject({
      id: donationId,
      monthly: false,
      gift: '$100.00',
      fee: '$3.30',
      total: '$103.30',
      converted: null,
      designation: 'Love Packs',
      tribute: 'In honour of Mum',
      anonymous: false,
      giftAidWording: null,
      partner: 'LIFT International',
      partnerReason: 'it is the LIFT charity registered in your country, which is what lets your gift count for tax there',
      matches: [{ partner: "One Day's Wages", amount: '$100.00' }],
      matchedAll: true,
      checkoutUrl: session.url,
    })
    expect(await donationRow(donationId)).toMatchObject({ tribute_type: 'honour', tribute_name: 'Mum' })
  })

  test('the thank-you page says "confirming" until the webhook lands, then shows the gift, the match and the bar', async () => {
    const before = await loadCampaign()
    const donationId = await give({ amountPreset: '5000' })
    const { session } = await stripeSessionOf(donationId)
    // A session id that is not this gift's is a tampered link; one that is no session id at all, too.
    expect((await thrown(thanks(donationId, 'cs_test_someoneelse'))).status).toBe(404)
    expect((await thrown(thanks(donationId, "x' or 1=1"))).status).toBe(404)

    completeCheckout(session.id, { outcome: 'paid' })
    const waiting = await thanks(donationId, session.id)
    expect(waiting).toMatchObject({ state: 'confirming', status: 'pending', gift: '$50.00 USD', feeCovered: null, matches: [] })
    expect(waiting.progress!.raisedMinor).toBe(before.progress.raisedMinor)

    expect(await deliverWebhooks('us')).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed'])
    const done = await thanks(donationId, session.id)
    expect(done).toMatchObject({
      state: 'thanked',
      status: 'succeeded',
      gift: '$50.00 USD',
      partner: 'LIFT International',
      designation: 'Survivor Fund',
      matches: [{ partner: "One Day's Wages", amount: '$50.00 USD' }],
    })
    expect(done.progress!.raisedMinor).toBe(before.progress.raisedMinor + 10_000)
    expect((await loadCampaign()).progress.raisedMinor).toBe(before.progress.raisedMinor + 10_000)
    // Paid: the review page now sends the donor to the thank-you page.
    const moved = await thrown(review(donationId))
    expect([moved.status, moved.headers.get('location')]).toEqual([302, `/donations/${donationId}/thanks`])
  })

  test('an anonymous gift shows no name on the campaign page, even once settled', async () => {
    const donationId = await give({ name: 'Zebedee Secretname', email: 'zeb@example.org', anonymous: 'on', amountPreset: '25000' })
    expect(await review(donationId)).toMatchObject({ anonymous: true })
    completeCheckout((await stripeSessionOf(donationId)).session.id, { outcome: 'paid', name: 'Zebedee Secretname' })
    await deliverWebhooks('us')
    const page = await loadCampaign()
    expect(page.supporters).toEqual([{ name: 'Anonymous', amount: '$250', when: expect.any(String) }])
    const text = JSON.stringify(page)
    for (const secret of ['Zebedee', 'Secretname', 'zeb@']) expect(text).not.toContain(secret)
  })

  test('a checkout started with someone else’s email does not rename them on their gifts', async () => {
    const donationId = await give({ name: 'Ada Lovelace', email: 'ada@example.org', amountPreset: '2500' })
    completeCheckout((await stripeSessionOf(donationId)).session.id, { outcome: 'paid', name: 'Ada Lovelace' })
    await deliverWebhooks('us')
    // Anyone can type Ada's email; the checkout is never paid.
    await give({ name: 'Mallory Prankster', email: 'ada@example.org', amountPreset: '2500' })
    const page = await loadCampaign()
    expect(page.supporters).toEqual([{ name: 'Ada L.', amount: '$25', when: expect.any(String) }])
    expect(JSON.stringify(page)).not.toContain('Mallory')
  })

  test.each([
    ['Stripe’s cancel link', cancelByLink],
    ['the review page’s “Change my gift”', cancelByForm],
  ])('%s from another browser goes to the form and leaves the checkout open', async (_, cancel) => {
    const pledge = await pledgeFor()
    const donationId = await give({ amountPreset: '5000' })
    const { session } = await stripeSessionOf(donationId)
    const before = await rowCounts()
    for (const cookie of otherBrowsers(donationId)) {
      const response = await thrown(cancel(donationId, { cookie }))
      expect(response.status).toBe(302)
      expect(response.headers.get('location')).toBe(`/campaigns/aftercare-thailand?resume=${donationId}#donate`)
    }
    expect(await rowCounts()).toEqual(before)
    expect(await donationRow(donationId)).toMatchObject({ status: 'pending' })
    expect((await reservationsOf(donationId)).map((r) => r.status)).toEqual(['held'])
    expect((await pledgeFor()).reserved_minor).toBeGreaterThan(pledge.reserved_minor)
    expect(getFakeObject<Stripe.Checkout.Session>(session.id)!.status).toBe('open')
  })

  test.each([
    ['Stripe’s cancel link', cancelByLink],
    ['the review page’s “Change my gift”', cancelByForm],
  ])('%s ends the checkout, frees the match and returns to the form with every answer kept', async (_, cancel) => {
    const pledge = await pledgeFor()
    const answers = {
      ...validForm,
      amountPreset: 'custom',
      customAmount: '1,000.50',
      currency: 'GBP',
      country: 'GB',
      partner: 'nz',
      frequency: 'monthly',
      designationId: 'caregiver-training',
      coverFee: 'on',
      anonymous: 'on',
      tributeType: 'memory',
      tributeName: 'Grandma Rose',
      name: 'Ada Lovelace',
      email: 'ada@example.org',
    }
    const donationId = await give(answers)
    const { session } = await stripeSessionOf(donationId)
    expect((await pledgeFor()).reserved_minor).toBeGreaterThan(pledge.reserved_minor)

    const back = await thrown(cancel(donationId))
    expect(back.status).toBe(302)
    expect(back.headers.get('location')).toBe(`/campaigns/aftercare-thailand?resume=${donationId}#donate`)
    expect(await donationRow(donationId)).toMatchObject({ status: 'canceled' })
    expect((await reservationsOf(donationId)).map((r) => r.status)).toEqual(['released'])
    expect((await pledgeFor()).reserved_minor).toBe(pledge.reserved_minor)
    expect(getFakeObject<Stripe.Checkout.Session>(session.id)!.status).toBe('expired')
    // Stripe's own word that the session expired changes nothing more.
    expect(await deliverWebhooks('nz')).toEqual(['checkout.session.expired'])
    expect(await donationRow(donationId)).toMatchObject({ status: 'canceled' })

    // Only on its own campaign's page.
    expect((await loadCampaign('safe-homes-winter-appeal', `?resume=${donationId}`)).initialValues).toBeUndefined()
    const form = await loadCampaign('aftercare-thailand', `?resume=${donationId}`)
    // Every answer back as given (the honeypot is not an answer), the amount as the form writes it.
    const { website: _honeypot, ...given }: Record<string, string> = answers
    expect(form.initialValues).toEqual({ ...given, customAmount: '1000.50' })
    // The thank-you page for it says so, and offers to try again.
    expect(await thanks(donationId)).toMatchObject({ state: 'ended', status: 'canceled' })
    // The kept answers give the same gift again.
    const again = await give(form.initialValues as Record<string, string>)
    expect(await donationRow(again)).toMatchObject({ amount_minor: 100_050, currency: 'GBP', fiscal_partner_id: 'nz', status: 'pending' })
  })

  test('Gift Aid answers are kept too, and a paid gift cannot be resumed', async () => {
    const donationId = await give(ukGiftAid)
    await thrown(cancelByLink(donationId))
    expect((await loadCampaign('aftercare-thailand', `?resume=${donationId}`)).initialValues).toMatchObject({
      giftAid: 'on',
      giftAidTitle: '',
      giftAidFirstName: 'Ada',
      giftAidLastName: 'Lovelace',
      giftAidHouse: '12',
      giftAidAddress: 'St James’s Square, London',
      giftAidPostcode: 'SW1Y 4JH',
    })

    const paid = await give({ email: 'paid@example.org' })
    completeCheckout((await stripeSessionOf(paid)).session.id, { outcome: 'paid' })
    await deliverWebhooks('us')
    expect((await loadCampaign('aftercare-thailand', `?resume=${paid}`)).initialValues).toBeUndefined()
    // Cancelling after paying changes nothing, and shows the gift.
    expect((await thrown(cancelByLink(paid))).headers.get('location')).toBe(`/donations/${paid}/thanks`)
    expect(await donationRow(paid)).toMatchObject({ status: 'succeeded' })
  })

  test('when Stripe cannot be reached, "Change my gift" is a 502 that changes nothing', async () => {
    const donationId = await give()
    const held = await reservationsOf(donationId)
    const stripeDown = () => HttpResponse.json({ error: { type: 'api_error', message: 'Stripe is having a moment' } }, { status: 500 })
    server.use(http.post('https://api.stripe.com/v1/checkout/sessions/:id/expire', stripeDown), http.get('https://api.stripe.com/v1/checkout/sessions/:id', stripeDown))
    const before = await rowCounts()
    const response = await thrown(cancelByForm(donationId))
    expect(response.status).toBe(502)
    expect(await response.text()).toMatch(/could not reach our payment processor to cancel this checkout\. Nothing has changed/)
    expect(await donationRow(donationId)).toMatchObject({ status: 'pending' })
    expect(await reservationsOf(donationId)).toEqual(held)
    expect(await rowCounts()).toEqual(before)
  })

  test('"Change my gift" after the session expired at Stripe, before its webhook: the gift ends as expired and the form comes back', async () => {
    const donationId = await give()
    expireCheckout((await stripeSessionOf(donationId)).session.id)
    const response = await thrown(cancelByForm(donationId))
    expect(response.headers.get('location')).toBe(`/campaigns/aftercare-thailand?resume=${donationId}#donate`)
    expect(await donationRow(donationId)).toMatchObject({ status: 'expired' })
    expect((await reservationsOf(donationId)).map((r) => r.status)).toEqual(['expired'])
  })

  test('"Change my gift" on a bank debit already processing keeps the gift and its match hold', async () => {
    const donationId = await give({ amountPreset: '5000' })
    completeCheckout((await stripeSessionOf(donationId)).session.id, { outcome: 'processing' })
    await deliverWebhooks('us')
    expect(await donationRow(donationId)).toMatchObject({ status: 'processing' })
    const held = await reservationsOf(donationId)
    const pledge = await pledgeFor()

    // The review page loaded before paying, in another tab.
    const response = await thrown(cancelByForm(donationId))
    expect(response.headers.get('location')).toBe(`/donations/${donationId}/thanks`)
    expect(await donationRow(donationId)).toMatchObject({ status: 'processing' })
    expect(await reservationsOf(donationId)).toEqual(held)
    expect(await pledgeFor()).toEqual(pledge)

    settleAsyncPayment((await stripeSessionOf(donationId)).session.id, true)
    await deliverWebhooks('us')
    expect(await donationRow(donationId)).toMatchObject({ status: 'succeeded' })
    expect((await pledgeFor()).matched_minor).toBe(pledge.matched_minor + 5_000)
  })

  test('an entity chosen for the donor’s country comes back as automatic, so a new country can change it', async () => {
    const donationId = await give({ country: 'GB', partner: 'auto', currency: 'GBP' })
    expect(await donationRow(donationId)).toMatchObject({ fiscal_partner_id: 'uk' })
    await thrown(cancelByLink(donationId))
    const { initialValues } = await loadCampaign('aftercare-thailand', `?resume=${donationId}`)
    expect(initialValues).toMatchObject({ country: 'GB', partner: 'auto' })
    const again = await give({ ...(initialValues as Record<string, string>), country: 'NZ' })
    expect(await donationRow(again)).toMatchObject({ fiscal_partner_id: 'nz' })
  })

  test('a resume link opened in another browser brings back the gift, never the donor’s name, email, tribute or address', async () => {
    const donationId = await give({ ...ukGiftAid, tributeType: 'memory', tributeName: 'Grace Hopper' })
    await thrown(cancelByLink(donationId))
    // The link as the donor might share it with the campaign: someone else's browser has no cookie,
    // or one naming this gift without its secret.
    for (const cookie of otherBrowsers(donationId)) {
      const { initialValues } = await loadCampaign('aftercare-thailand', `?resume=${donationId}`, { cookie })
      expect(initialValues).toMatchObject({ customAmount: '50', currency: 'GBP', tributeType: 'memory', tributeName: '', name: '', email: '' })
      expect(JSON.stringify(initialValues)).not.toMatch(/Ada|Lovelace|Grace|SW1Y|St James/)
    }
    // The donor's own browser still gets every answer back.
    expect((await loadCampaign('aftercare-thailand', `?resume=${donationId}`)).initialValues).toMatchObject({ name: 'Ada Lovelace', tributeName: 'Grace Hopper', giftAidPostcode: 'SW1Y 4JH' })
  })

  test('a malformed resume id is ignored, not an error', async () => {
    expect((await loadCampaign('aftercare-thailand', '?resume=nope')).initialValues).toBeUndefined()
  })
})
