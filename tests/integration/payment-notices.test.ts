// What a donor hears when money they meant to give does not arrive, through the real webhook
// route and the real outbox: a bank debit that fails after checkout, a monthly payment that fails,
// a monthly gift that ends. Each notice is queued once however often Stripe's events are seen,
// none promises another try once the gift has ended, and none is queued where the donor already
// knows (a checkout left unfinished).
import { and, eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { beforeEach, describe, expect, test } from 'vitest'
import { sendDueEmails } from '#app/models/email-outbox.server.ts'
import { db } from '#app/utils/db.server.ts'
import { createResendTransport } from '#app/utils/email.server.ts'
import { donations, recurringPlans } from '#db/schema/giving.ts'
import { outboxTemplates } from '#tests/gifts.ts'
import { cancelSubscription, completeCheckout, expireCheckout, failNextInvoice, payNextInvoice, refundCharge, settleAsyncPayment } from '#tests/mocks/stripe/simulate.ts'
import { takeEvents } from '#tests/mocks/stripe/state.ts'
import { getResendOutbox } from '#tests/mocks/resend.ts'
import { inMonths, longCampaign, monthlyGift } from '#tests/support/monthly.ts'
import { deliver, deliverQueued, giveAndPay, startCheckout } from '#tests/support/webhooks.ts'

const title = 'Aftercare for Survivors of Trafficking in Thailand'
let slug: string

beforeEach(async () => {
  slug = (await longCampaign()).campaign.slug
})

const resend = () => createResendTransport({ apiKey: 're_test_notices', from: 'LIFT International <giving@liftinternational.org>' })

/**
 * Delivers Stripe's events, then each again as a new event about the same object (as Stripe's
 * other events about it would be): every one is stored and applied twice, from fresh reads.
 */
async function appliedTwice(events: Stripe.Event[]) {
  await deliver(events, 'us')
  await deliver(events.map((event) => ({ ...event, id: `${event.id}_again` })), 'us')
}

const sentWithSubject = (subject: string) => getResendOutbox().filter((email) => email.subject === subject)

describe('a bank debit that fails after checkout', () => {
  test('the donor is told once that nothing was given, and where to give again; a bank return is not quoted', async () => {
    const started = await startCheckout({ campaignSlug: slug, amountMinor: 7_500 })
    completeCheckout(started.sessionId, { outcome: 'processing' })
    await deliverQueued('us')
    settleAsyncPayment(started.sessionId, false)
    await appliedTwice(takeEvents('us'))
    expect(await outboxTemplates()).toEqual(['payment-failed'])

    expect(await sendDueEmails({ transport: resend() })).toMatchObject({ sent: 1 })
    const [notice] = getResendOutbox()
    expect(notice!.subject).toBe(`Your gift to ${title} did not go through`)
    expect(notice!.text).toMatch(new RegExp(`Your gift of \\$75\\.00 USD to ${title}, made on \\w+ \\d+, \\d{4} \\(E[SD]T\\), did not go through: the payment could not be collected\\.\\n`))
    // Stripe's message for a bank's decline is not written for the payer: finance keeps it, the donor does not see it.
    expect(notice!.text).not.toMatch(/reason given|declined the debit/)
    expect(notice!.text).toContain('As nothing was collected, this is not a gift and no receipt applies to it.')
    expect(notice!.html).toContain(`/campaigns/${slug}`)
    expect(notice!.text).not.toMatch(/acknowledgement|No goods or services/)
  })

  test('a card gift that is paid, and a checkout the donor leaves unfinished, send no such notice', async () => {
    await giveAndPay({ campaignSlug: slug, amountMinor: 5_000 })
    const left = await startCheckout({ campaignSlug: slug, amountMinor: 2_500 })
    expireCheckout(left.sessionId)
    await appliedTwice(takeEvents('us'))
    expect(await outboxTemplates()).toEqual(['gift-thank-you'])
  })
})

describe('a monthly gift', () => {
  test('a later payment that fails: one notice per payment, quoting the card issuer, however many tries and deliveries', async () => {
    const { subscriptionId } = await monthlyGift(slug)
    await sendDueEmails({ transport: resend() })
    failNextInvoice(subscriptionId!, { at: inMonths(1) })
    await appliedTwice(takeEvents('us'))
    // Stripe tries the same payment again, and it fails again.
    failNextInvoice(subscriptionId!, { at: inMonths(1.1) })
    await appliedTwice(takeEvents('us'))
    expect(await outboxTemplates()).toEqual(['gift-thank-you', 'monthly-payment-failed'])

    await sendDueEmails({ transport: resend() })
    const [notice] = sentWithSubject(`This month's payment to ${title} did not go through`)
    expect(notice!.text).toMatch(/This month's payment of \$20\.00 USD for your monthly gift to .+, due on \w+ \d+, \d{4} \(E[SD]T\), did not go through\. The reason given was: “Your card has insufficient funds\.”/)
    expect(notice!.text).toContain('Your earlier payments are not affected.')

    // The next month's payment is its own: it fails too, and is told of too.
    payNextInvoice(subscriptionId!, { at: inMonths(1.2) })
    failNextInvoice(subscriptionId!, { at: inMonths(2) })
    await deliverQueued('us')
    expect(await outboxTemplates()).toEqual(['gift-thank-you', 'monthly-payment-failed', 'gift-thank-you', 'monthly-payment-failed'])
  })

  test('ended by Stripe after its payments failed: told once that it ended, with what was given; no promise of another try', async () => {
    const { subscriptionId, plan } = await monthlyGift(slug)
    payNextInvoice(subscriptionId!, { at: inMonths(1) })
    await deliverQueued('us')
    // The second payment is refunded in full, so it is no longer part of what was given.
    const [second] = await db.select().from(donations).where(and(eq(donations.recurringPlanId, plan.id), eq(donations.installment, 2)))
    refundCharge(second!.chargeId!)
    // The next payment fails and Stripe gives up before any of these events reach us: each is
    // read from Stripe as it is now, with the subscription already cancelled.
    failNextInvoice(subscriptionId!, { at: inMonths(2) })
    cancelSubscription(subscriptionId!, { at: inMonths(2.5), reason: 'payment_failed' })
    await appliedTwice(takeEvents('us'))
    expect(await outboxTemplates()).toEqual(['gift-thank-you', 'gift-thank-you', 'monthly-gift-ended'])
    const [ended] = await db.select().from(recurringPlans).where(eq(recurringPlans.id, plan.id))
    expect(ended).toMatchObject({ status: 'canceled', failedPaymentCount: 1 })

    await sendDueEmails({ transport: resend() })
    const [notice] = sentWithSubject(`Your monthly gift to ${title} has ended`)
    expect(notice!.text).toMatch(/Your monthly gift to .+ ended on \w+ \d+, \d{4} \(E[SD]T\), because its payments could not be taken\. No further payments will be taken\./)
    expect(notice!.text).toContain('Over one monthly payment you gave $20.00 USD. Thank you.')
    expect(notice!.text).toContain('This is not a receipt: the acknowledgement sent for each payment is your record of it.')
  })

  test('cancelled on request: says so, with every payment it made', async () => {
    const { subscriptionId } = await monthlyGift(slug)
    payNextInvoice(subscriptionId!, { at: inMonths(1) })
    cancelSubscription(subscriptionId!, { at: inMonths(1.5) })
    await deliverQueued('us')
    expect(await outboxTemplates()).toEqual(['gift-thank-you', 'gift-thank-you', 'monthly-gift-ended'])
    await sendDueEmails({ transport: resend() })
    const [notice] = sentWithSubject(`Your monthly gift to ${title} has ended`)
    expect(notice!.text).toMatch(/ended on .+, as it was cancelled\. No further payments will be taken\./)
    expect(notice!.text).toContain('Over 2 monthly payments you gave $40.00 USD. Thank you.')
  })
})
