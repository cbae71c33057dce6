// What the webhook endpoint accepts: only events signed with the right fiscal partner's secret,
// recently, over the exact bytes Stripe sent; everything else is refused with nothing written.
// And what it does with a redelivery: nothing.
import type Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { loader } from '#app/routes/webhooks.stripe.$partner.ts'
import { db } from '#app/utils/db.server.ts'
import { completeCheckout, openDispute, refundCharge } from '#tests/mocks/stripe/simulate.ts'
import { accountFor, signedWebhook, takeEvents } from '#tests/mocks/stripe/state.ts'
import { createCampaign, createCatalog, rowCounts } from '#tests/factories.ts'
import { donationOf, expectLedgerClean } from '#tests/gifts.ts'
import {
  deliver,
  giveAndPay,
  post,
  processAllDue,
  startCheckout,
  stateSnapshot,
  stripeIdsOf,
} from '#tests/support/webhooks.ts'

async function campaignSlug() {
  await createCatalog()
  return (await createCampaign()).campaign.slug
}

/** A paid checkout whose completion Stripe has not delivered yet. */
async function undeliveredCompletion() {
  const started = await startCheckout({ campaignSlug: await campaignSlug(), amountMinor: 5_000 })
  completeCheckout(started.sessionId, { outcome: 'paid' })
  const event = takeEvents('us').find((e) => e.type === 'checkout.session.completed')!
  return { ...started, event }
}

describe('refused deliveries write nothing', () => {
  test.each([
    ['a tampered body', 400, (event: Stripe.Event) => {
      const { body, headers } = signedWebhook(event, 'us')
      const tampered = body.replace('"amount_total": 5000', '"amount_total": 1')
      expect(tampered).not.toBe(body)
      return { partner: 'us', body: tampered, headers }
    }],
    ['a body re-serialised after signing', 400, (event: Stripe.Event) => {
      const { body, headers } = signedWebhook(event, 'us')
      return { partner: 'us', body: JSON.stringify(JSON.parse(body)), headers }
    }],
    ['a signature older than the 5-minute tolerance', 400, (event: Stripe.Event) => ({
      partner: 'us',
      ...signedWebhook(event, 'us', { timestamp: Math.floor(Date.now() / 1000) - 600 }),
    })],
    ['no Stripe-Signature header', 400, (event: Stripe.Event) => {
      const { body, headers } = signedWebhook(event, 'us')
      const { 'stripe-signature': _, ...rest } = headers
      return { partner: 'us', body, headers: rest }
    }],
    ['a garbled signature header', 400, (event: Stripe.Event) => {
      const { body, headers } = signedWebhook(event, 'us')
      return { partner: 'us', body, headers: { ...headers, 'stripe-signature': 'not-a-signature' } }
    }],
    ['an unknown fiscal partner', 404, (event: Stripe.Event) => ({ partner: 'xx', ...signedWebhook(event, 'us') })],
    ["another partner's secret", 400, (event: Stripe.Event) => ({
      partner: 'us',
      ...signedWebhook(event, 'us', { secret: accountFor('uk').config.webhookSecret }),
    })],
    ["a valid event sent to another partner's endpoint", 400, (event: Stripe.Event) => ({ partner: 'uk', ...signedWebhook(event, 'us') })],
    ['a correctly signed body past 1 MiB', 413, (event: Stripe.Event) => ({
      partner: 'us',
      ...signedWebhook({ ...event, padding: 'x'.repeat(1024 * 1024) } as unknown as Stripe.Event, 'us'),
    })],
  ])('%s gets %i', async (_name, status, forge) => {
    const { donationId, event } = await undeliveredCompletion()
    const before = await rowCounts()
    const { partner, body, headers } = forge(event)
    const response = await post(body, headers, partner)
    expect(response.status).toBe(status)
    expect(await rowCounts()).toEqual(before)
    expect(await donationOf(donationId)).toMatchObject({ status: 'pending', balanceTransactionId: null })

    // The genuine delivery still works afterwards: the refusal did not mark the event as seen.
    expect(await deliver([event], 'us')).toEqual([{ status: 200, outcome: 'applied' }])
    expect(await donationOf(donationId)).toMatchObject({ status: 'succeeded' })
  })

  test('a GET is a 405 that names POST, and writes nothing', async () => {
    await campaignSlug()
    const before = await rowCounts()
    const response = await loader({ request: new Request('http://localhost:3000/webhooks/stripe/us'), params: { partner: 'us' }, context: { clientIp: '127.0.0.1' } })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('POST')
    expect(await rowCounts()).toEqual(before)
  })

  test('a signature from a rotated secret list is accepted when one v1 matches', async () => {
    const { donationId, event } = await undeliveredCompletion()
    const { body, headers } = signedWebhook(event, 'us')
    const stale = signedWebhook(event, 'us', { secret: 'whsec_old_rotated' }).headers['stripe-signature']!
    const signature = `${headers['stripe-signature']},${stale.split(',').find((part) => part.startsWith('v1='))}`
    expect((await post(body, { ...headers, 'stripe-signature': signature }, 'us')).status).toBe(200)
    await processAllDue()
    expect(await donationOf(donationId)).toMatchObject({ status: 'succeeded' })
  })
})

describe('redelivery', () => {
  test('the same event twice changes nothing the second time', async () => {
    const gift = await giveAndPay({ campaignSlug: await campaignSlug(), amountMinor: 5_000 })
    refundCharge(gift.chargeId!, { amount: 1_000 })
    openDispute(gift.chargeId!, { amount: 4_000 })
    const later = takeEvents('us')
    await deliver(later, 'us')
    const before = { counts: await rowCounts(), state: await stateSnapshot() }

    for (const event of [...gift.events, ...later]) {
      expect(await deliver([event], 'us')).toEqual([{ status: 200, outcome: 'duplicate' }])
    }
    expect({ counts: await rowCounts(), state: await stateSnapshot() }).toEqual(before)
    await expectLedgerClean(db)
  })

  test('a redelivery racing the first delivery is applied once', async () => {
    const { donationId, event, sessionId } = await undeliveredCompletion()
    const outcomes = await Promise.all([deliver([event], 'us'), deliver([event], 'us'), deliver([event], 'us')])
    expect(outcomes.flat().map((o) => o.outcome).sort()).toEqual(['applied', 'duplicate', 'duplicate'])
    expect(await donationOf(donationId)).toMatchObject({ status: 'succeeded', countedMinor: 5_000 })
    expect(stripeIdsOf(sessionId).chargeId).toBe((await donationOf(donationId)).chargeId)
    const counts = await rowCounts()
    expect(counts).toMatchObject({ stripe_events: 1, matches: 1, ledger_entries: 2 })
    await expectLedgerClean(db, { strict: true })
  })
})
