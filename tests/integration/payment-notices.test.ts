// What a donor hears when money they meant to give does not arrive, through the real webhook
// route and the real outbox: a bank debit that fails after checkout, a monthly payment that fails,
// a monthly gift that ends. Each notice is queued once however often Stripe's events are seen,
// and none is queued where the donor already knows (a checkout left unfinished).
import { and, eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { beforeEach, describe, expect, test } from 'vitest'
import { sendDueEmails } from '#app/models/email-outbox.server.ts'
import { db } from '#app/utils/db.server.ts'
import { createResendTransport } from '#app/utils/email.server.ts'
import { campaigns, matchPledges } from '#db/schema/catalog.ts'
import { donations, recurringPlans } from '#db/schema/giving.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { createCampaign, createCatalog } from '#tests/factories.ts'
import { cancelSubscription, completeCheckout, expireCheckout, failNextInvoice, payNextInvoice, refundCharge, settleAsyncPayment } from '#tests/mocks/stripe/simulate.ts'
import { takeEvents } from '#tests/mocks/stripe/state.ts'
import { getResendOutbox } from '#tests/mocks/resend.ts'
import { deliver, deliverQueued, giveAndPay, startCheckout } from '#tests/support/webhooks.ts'

const day = 86_400_000
const title = 'Aftercare for Survivors of Trafficking in Thailand'
let slug: string

beforeEach(async () => {
  await createCatalog()
  const { campaign } = await createCampaign()
  // Long enough for several monthly payments to fall inside the campaign and its pledge.
  const endsAt = new Date(Date.now() + 200 * day)
  await db.update(campaigns).set({ endsAt }).where(eq(campaigns.id, campaign.id))
  await db.update(matchPledges).set({ endsAt }).where(eq(matchPledges.campaignId, campaign.id))
  slug = campaign.slug
})

const inMonths = (n: number) => new Date(Date.now() + n * 30 * day + 60_000)
const resend = () => createResendTransport({ apiKey: 're_test_notices', from: 'LIFT International <giving@liftinternational.org>' })

async function queued() {
  const rows = await db.select({ template: emailOutbox.template }).from(emailOutbox).orderBy(emailOutbox.id)
  return rows.map((row) => row.template)
}

/** Delivers the events again, as Stripe's retries or a second endpoint would. */
async function seenTwice(events: Stripe.Event[]) {
  await deliver(events, 'us')
  await deliver(events, 'us')
}

describe('a bank debit that fails after checkout', () => {
  test('the donor is told once that nothing was given, with the bank’s reason and where to give again', async () => {
    const started = await startCheckout({ campaignSlug: slug, amountMinor: 7_500 })
    completeCheckout(started.sessionId, { outcome: 'processing' })
    await deliverQueued('us')
    settleAsyncPayment(started.sessionId, false)
    await seenTwice(takeEvents('us'))
    expect(await queued()).toEqual(['payment-failed'])

    expect(await sendDueEmails({ transport: resend() })).toMatchObject({ sent: 1 })
    const [notice] = getResendOutbox()
    expect(notice!.subject).toBe(`Your gift to ${title} did not go through`)
    expect(notice!.text).toMatch(new RegExp(`Your gift of \\$75\\.00 USD to ${title}, made on \\w+ \\d+, \\d{4} \\(E[SD]T\\), did not go through: the payment could not be collected\\. The reason given was: “.*declined.*”`))
    expect(notice!.text).toContain('As nothing was collected, this is not a gift and no receipt applies to it.')
    expect(notice!.html).toContain(`/campaigns/${slug}`)
    expect(notice!.text).not.toMatch(/acknowledgement|No goods or services/)
  })

  test('a card gift that is paid, and a checkout the donor leaves unfinished, send no such notice', async () => {
    await giveAndPay({ campaignSlug: slug, amountMinor: 5_000 })
    const left = await startCheckout({ campaignSlug: slug, amountMinor: 2_500 })
    expireCheckout(left.sessionId)
    await deliverQueued('us')
    expect(await queued()).toEqual(['gift-thank-you'])
  })
})

async function monthlyGift() {
  const gift = await giveAndPay({ campaignSlug: slug, amountMinor: 2_000, frequency: 'monthly' })
  const [plan] = await db.select().from(recurringPlans)
  return { subscriptionId: gift.subscriptionId!, planId: plan!.id }
}

describe('a monthly gift', () => {
  test('a later payment that fails: one notice per payment, however many tries and deliveries', async () => {
    const { subscriptionId } = await monthlyGift()
    await sendDueEmails({ transport: resend() })
    failNextInvoice(subscriptionId, { at: inMonths(1) })
    await seenTwice(takeEvents('us'))
    // Stripe tries the same payment again, and it fails again.
    failNextInvoice(subscriptionId, { at: inMonths(1.1) })
    await deliverQueued('us')
    expect(await queued()).toEqual(['gift-thank-you', 'monthly-payment-failed'])

    await sendDueEmails({ transport: resend() })
    const notice = getResendOutbox().at(-1)!
    expect(notice.subject).toBe(`This month's payment to ${title} did not go through`)
    expect(notice.text).toMatch(/This month's payment of \$20\.00 USD for your monthly gift to .+, due on \w+ \d+, \d{4} \(E[SD]T\), did not go through\. The reason given was: “Your card has insufficient funds\.”/)
    expect(notice.text).toContain('Your earlier payments are not affected.')

    // The next month's payment is its own: it fails too, and is told of too.
    payNextInvoice(subscriptionId, { at: inMonths(1.2) })
    failNextInvoice(subscriptionId, { at: inMonths(2) })
    await deliverQueued('us')
    expect(await queued()).toEqual(['gift-thank-you', 'monthly-payment-failed', 'gift-thank-you', 'monthly-payment-failed'])
  })

  test('ended by Stripe after its payments failed: what was given, counted as the thank-you counts it; told once', async () => {
    const { subscriptionId, planId } = await monthlyGift()
    payNextInvoice(subscriptionId, { at: inMonths(1) })
    await deliverQueued('us')
    // The second payment is refunded in full, so it is no longer part of what was given.
    const [second] = await db.select().from(donations).where(and(eq(donations.recurringPlanId, planId), eq(donations.installment, 2)))
    refundCharge(second!.chargeId!)
    failNextInvoice(subscriptionId, { at: inMonths(2) })
    cancelSubscription(subscriptionId, { at: inMonths(2.5), reason: 'payment_failed' })
    await seenTwice(takeEvents('us'))
    expect((await queued()).filter((t) => t === 'monthly-gift-ended')).toHaveLength(1)
    const [plan] = await db.select().from(recurringPlans).where(eq(recurringPlans.id, planId))
    expect(plan!.status).toBe('canceled')

    await sendDueEmails({ transport: resend() })
    const ended = getResendOutbox().find((email) => email.subject === `Your monthly gift to ${title} has ended`)!
    expect(ended.text).toMatch(/Your monthly gift to .+ ended on \w+ \d+, \d{4} \(E[SD]T\), because its payments could not be taken\. No further payments will be taken\./)
    expect(ended.text).toContain('Over one monthly payment you gave $20.00 USD. Thank you.')
  })

  test('cancelled on request: says so, with every payment it made', async () => {
    const { subscriptionId } = await monthlyGift()
    payNextInvoice(subscriptionId, { at: inMonths(1) })
    cancelSubscription(subscriptionId, { at: inMonths(1.5) })
    await deliverQueued('us')
    await sendDueEmails({ transport: resend() })
    const ended = getResendOutbox().find((email) => email.subject === `Your monthly gift to ${title} has ended`)!
    expect(ended.text).toMatch(/ended on .+, as it was cancelled\. No further payments will be taken\./)
    expect(ended.text).toContain('Over 2 monthly payments you gave $40.00 USD. Thank you.')
  })
})
