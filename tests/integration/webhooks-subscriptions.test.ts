// Monthly giving through the real webhook route: the first payment at checkout, later invoices
// paid or failed, the subscription going past due and being cancelled. Every paid invoice is its
// own gift, matched under the pledge's rules, and counted once.
import { eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { db } from '#app/utils/db.server.ts'
import { donations, recurringPlans } from '#db/schema/giving.ts'
import { matchReservations } from '#db/schema/matching.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { renderEmail } from '#app/models/email-templates.server.ts'
import { applySnapshot } from '#app/models/stripe-apply.server.ts'
import { fetchInvoice, type InvoiceSnapshot, type SessionSnapshot, type Snapshot } from '#app/models/stripe-fetch.server.ts'
import { getStripe } from '#app/utils/stripe.server.ts'
import { cancelSubscription, changeSubscriptionAmount, completeCheckout, failNextInvoice, payNextInvoice } from '#tests/mocks/stripe/simulate.ts'
import { getFakeObject, takeEvents } from '#tests/mocks/stripe/state.ts'
import { donationOf, entriesOf, expectLedgerClean, matchOf, outboxTemplates, pledgeOf, postingsOf, totalsOf } from '#tests/gifts.ts'
import { day, inMonths, longCampaign, monthlyGift } from '#tests/support/monthly.ts'
import { deliver, deliverQueued, startCheckout } from '#tests/support/webhooks.ts'

async function planOf(id: string) {
  const [plan] = await db.select().from(recurringPlans).where(eq(recurringPlans.id, id))
  return plan!
}

async function installments(planId: string) {
  return db.select().from(donations).where(eq(donations.recurringPlanId, planId)).orderBy(donations.installment)
}

/**
 * A monthly checkout the fake has paid by card, and the Stripe objects behind it. The fake has no
 * subscription bank debits, so bank-debit tests apply snapshots of these as Stripe would show them.
 */
async function monthlyCheckoutObjects(campaignSlug: string) {
  const started = await startCheckout({ campaignSlug, amountMinor: 2_000, frequency: 'monthly' })
  completeCheckout(started.sessionId, { outcome: 'paid' })
  const session = getFakeObject<Stripe.Checkout.Session>(started.sessionId)!
  const invoice = getFakeObject<Stripe.Invoice>(session.invoice as string)!
  const subscription = getFakeObject<Stripe.Subscription>(session.subscription as string)!
  return { started, session, invoice, subscription }
}

type CheckoutObjects = Awaited<ReturnType<typeof monthlyCheckoutObjects>>

/** The first invoice as Stripe shows it once a payment was attempted, with that attempt's state. */
const attemptSeen = ({ invoice, subscription }: CheckoutObjects, attempt: InvoiceSnapshot['attempt']): InvoiceSnapshot => ({
  invoice: { ...invoice, status: 'open', attempt_count: 1 } as Stripe.Invoice,
  subscription,
  paymentIntentId: null,
  attempt,
})

/** The completed checkout of a bank debit as Stripe shows it: unpaid, its first invoice as given. */
const asSessionOf = ({ session }: CheckoutObjects, invoice: InvoiceSnapshot): Snapshot => ({
  kind: 'session',
  session: { session: { ...session, payment_status: 'unpaid' }, paymentIntent: null, charge: null, invoice } as SessionSnapshot,
})


describe('monthly gifts', () => {
  test('checkout + invoice.paid: the first payment settles the first gift and activates the plan', async () => {
    const { campaign, pledges } = await longCampaign()
    const gift = await monthlyGift(campaign.slug)
    expect(gift.events.map((e) => e.type)).toEqual(['customer.subscription.created', 'invoice.paid', 'checkout.session.completed'])

    expect(gift.plan).toMatchObject({ status: 'active', stripeSubscriptionId: gift.subscriptionId, failedPaymentCount: 0 })
    const [first] = await installments(gift.plan.id)
    const invoice = getFakeObject<Stripe.Invoice>(gift.invoiceId!)!
    expect(first).toMatchObject({ id: gift.donationId, installment: 1, status: 'succeeded', invoiceId: invoice.id, settledAmountMinor: 2_000, countedMinor: 2_000 })
    expect(first!.settledFeeMinor).toBe(88) // 2.9% + 30¢
    expect(await matchOf(gift.donationId)).toBe(2_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 2_000, reservedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 2_000, matchedMinor: 2_000, giftsCount: 1, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })

  test('three paid invoices are three gifts, each matched, counted once each, one donor', async () => {
    const { campaign, pledges } = await longCampaign()
    const gift = await monthlyGift(campaign.slug)
    payNextInvoice(gift.subscriptionId!, { at: inMonths(1) })
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['invoice.paid'])
    payNextInvoice(gift.subscriptionId!, { at: inMonths(2) })
    await deliverQueued('us')

    const gifts = await installments(gift.plan.id)
    expect(gifts.map((g) => [g.installment, g.status, g.amountMinor, g.countedMinor])).toEqual([
      [1, 'succeeded', 2_000, 2_000],
      [2, 'succeeded', 2_000, 2_000],
      [3, 'succeeded', 2_000, 2_000],
    ])
    expect(new Set(gifts.map((g) => g.invoiceId)).size).toBe(3)
    expect(new Set(gifts.map((g) => g.chargeId)).size).toBe(3)
    for (const g of gifts) {
      expect(await matchOf(g.id)).toBe(2_000)
      const gift = (await entriesOf(g.id)).find((e) => e.kind === 'gift')!
      expect(await postingsOf(gift.id)).toEqual({ 'assets:stripe': 1_912, 'funds:survivor-fund:fees': 88, 'funds:survivor-fund:gifts': -2_000 })
    }
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 6_000, reservedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 6_000, matchedMinor: 6_000, giftsCount: 3, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a payment of another amount than the plan (a price changed in the Dashboard) counts what was paid, everywhere', async () => {
    const { campaign, pledges } = await longCampaign()
    const gift = await monthlyGift(campaign.slug)
    // Finance raises the donor's monthly gift from $20 to $25 at their request.
    changeSubscriptionAmount(gift.subscriptionId!, 2_500, { at: inMonths(0.5) })
    payNextInvoice(gift.subscriptionId!, { at: inMonths(1) })
    await deliverQueued('us')

    const gifts = await installments(gift.plan.id)
    expect(gifts.map((g) => [g.installment, g.amountMinor, g.chargedMinor, g.countedMinor])).toEqual([
      [1, 2_000, 2_000, 2_000],
      [2, 2_500, 2_500, 2_500],
    ])
    expect(await matchOf(gifts[1]!.id)).toBe(2_500)
    const entry = (await entriesOf(gifts[1]!.id)).find((e) => e.kind === 'gift')!
    expect(await postingsOf(entry.id)).toMatchObject({ 'funds:survivor-fund:gifts': -2_500 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 4_500 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 4_500, matchedMinor: 4_500, giftsCount: 2 })
    await expectLedgerClean(db, { strict: true })
  })

  test("a pledge that matches only the first two payments leaves the third unmatched, and says so in totals", async () => {
    const { campaign } = await longCampaign([{ matchedInstallments: 2 }])
    const gift = await monthlyGift(campaign.slug)
    payNextInvoice(gift.subscriptionId!, { at: inMonths(1) })
    payNextInvoice(gift.subscriptionId!, { at: inMonths(2) })
    await deliverQueued('us')
    const gifts = await installments(gift.plan.id)
    expect(await Promise.all(gifts.map((g) => matchOf(g.id)))).toEqual([2_000, 2_000, 0])
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 6_000, matchedMinor: 4_000, giftsCount: 3 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a first payment by bank debit holds the match like a one-off debit, and is not counted as a failure', async () => {
    const { campaign, pledges } = await longCampaign()
    // What Stripe shows while the first debit is processing.
    const objects = await monthlyCheckoutObjects(campaign.slug)
    const { started } = objects
    const processing = asSessionOf(objects, attemptSeen(objects, { status: 'processing', error: null }))
    for (const _ of [1, 2]) await db.transaction((tx) => applySnapshot(tx, 'us', processing))
    expect(await donationOf(started.donationId)).toMatchObject({ status: 'processing' })
    const [hold] = await db.select().from(matchReservations).where(eq(matchReservations.donationId, started.donationId))
    expect(hold!.status).toBe('held')
    expect(hold!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 9 * day)
    const [plan] = await db.select().from(recurringPlans)
    expect(plan).toMatchObject({ failedPaymentCount: 0, lastPaymentError: null })

    // The debit confirms: invoice.paid settles the gift from its hold.
    await deliverQueued('us')
    expect(await donationOf(started.donationId)).toMatchObject({ status: 'succeeded' })
    expect(await matchOf(started.donationId)).toBe(2_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 2_000, reservedMinor: 0 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a first bank debit that fails ends the gift and frees its match at once; a retry that is paid settles it', async () => {
    const { campaign, pledges } = await longCampaign()
    // What Stripe shows while the debit is processing, then once it has failed (the session itself stays unpaid).
    const objects = await monthlyCheckoutObjects(campaign.slug)
    const { started } = objects
    const seen = (attempt: InvoiceSnapshot['attempt']) => attemptSeen(objects, attempt)
    const asSession = (invoice: InvoiceSnapshot) => asSessionOf(objects, invoice)
    const apply = (snapshot: Snapshot) => db.transaction((tx) => applySnapshot(tx, 'us', snapshot))

    await apply(asSession(seen({ status: 'processing', error: null })))
    // A processing attempt seen through invoice events is not a failure either.
    await apply({ kind: 'invoice', invoice: seen({ status: 'processing', error: null }), charge: null })
    expect(await donationOf(started.donationId)).toMatchObject({ status: 'processing' })
    expect(await planOf((await donationOf(started.donationId)).recurringPlanId!)).toMatchObject({ failedPaymentCount: 0 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 2_000 })

    // invoice.payment_failed, checkout.session.async_payment_failed, and each seen again.
    // A bank's return is not a card error: Stripe's message is kept for finance, not shown to the donor.
    const failed = seen({
      status: 'requires_payment_method',
      error: { type: 'invalid_request_error', code: 'payment_method_provider_decline', message: 'The account has insufficient funds.' },
    })
    for (const _ of [1, 2]) {
      await apply({ kind: 'invoice', invoice: failed, charge: null })
      await apply(asSession(failed))
    }
    const gift = await donationOf(started.donationId)
    expect(gift).toMatchObject({ status: 'failed', failureReason: 'The account has insufficient funds.' })
    expect(await planOf(gift.recurringPlanId!)).toMatchObject({ failedPaymentCount: 1 })
    const [hold] = await db.select().from(matchReservations).where(eq(matchReservations.donationId, started.donationId))
    expect(hold!.status).toBe('released')
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 0, matchedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, giftsCount: 0 })
    // The donor left checkout believing it was on its way: told once that it did not go through.
    expect(await outboxTemplates()).toEqual(['payment-failed'])
    const [queued] = await db.select().from(emailOutbox)
    const { subject, text } = await renderEmail(db, queued!.template, queued!.props)
    expect(subject).toBe('The first payment of your monthly gift to Aftercare for Survivors of Trafficking in Thailand did not go through')
    expect(text).toContain('did not go through: the payment could not be collected.')
    expect(text).not.toContain('insufficient funds')
    expect(text).toContain('Your monthly gift has not started.')

    // Stripe retries and the debit goes through: invoice.paid settles the same gift, matched from the free cap.
    await deliverQueued('us')
    expect(await donationOf(started.donationId)).toMatchObject({ status: 'succeeded', failureReason: null })
    expect(await matchOf(started.donationId)).toBe(2_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 2_000, matchedMinor: 2_000, giftsCount: 1 })
    expect(await outboxTemplates()).toEqual(['payment-failed', 'gift-thank-you'])
    await expectLedgerClean(db, { strict: true })
  })

  test('invoice.payment_failed counts the failure and subscription.updated marks the plan past due; a retry pays', async () => {
    const { campaign } = await longCampaign()
    const gift = await monthlyGift(campaign.slug)
    failNextInvoice(gift.subscriptionId!, { at: inMonths(1) })
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['invoice.payment_failed', 'customer.subscription.updated'])
    expect(await planOf(gift.plan.id)).toMatchObject({ status: 'past_due', failedPaymentCount: 1, lastPaymentError: expect.stringContaining('failed') })
    // Seen again (a redelivery re-fetched, another event about the invoice): one attempt, one failure.
    const open = getFakeObject<Stripe.Subscription>(gift.subscriptionId!)!.latest_invoice as string
    const fetched = await fetchInvoice(getStripe('us'), open)
    // What the processor reads: the failed attempt, from the invoice's open payment.
    expect(fetched.invoice.attempt).toMatchObject({ status: 'requires_payment_method', error: { type: 'card_error', message: 'Your card has insufficient funds.' } })
    await db.transaction((tx) => applySnapshot(tx, 'us', { kind: 'invoice', ...fetched }))
    expect(await planOf(gift.plan.id)).toMatchObject({ failedPaymentCount: 1 })
    expect(await installments(gift.plan.id)).toHaveLength(1)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 2_000, giftsCount: 1 })

    // Stripe retries the same invoice; this time it is paid and the subscription is active again.
    payNextInvoice(gift.subscriptionId!, { at: inMonths(1.1) })
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['invoice.paid', 'customer.subscription.updated'])
    expect(await planOf(gift.plan.id)).toMatchObject({ status: 'active' })
    const gifts = await installments(gift.plan.id)
    expect(gifts.map((g) => [g.installment, g.status])).toEqual([[1, 'succeeded'], [2, 'succeeded']])
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 4_000, matchedMinor: 4_000, giftsCount: 2, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })

  test('customer.subscription.deleted ends the plan; the gifts already made still count', async () => {
    const { campaign } = await longCampaign()
    const gift = await monthlyGift(campaign.slug)
    cancelSubscription(gift.subscriptionId!)
    expect((await deliverQueued('us')).map((e) => e.type)).toEqual(['customer.subscription.deleted'])
    const plan = await planOf(gift.plan.id)
    expect(plan).toMatchObject({ status: 'canceled', canceledAt: expect.any(Date) })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 2_000, matchedMinor: 2_000, giftsCount: 1 })
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from donations`)
    expect(rows[0]!.n).toBe(1)
    await expectLedgerClean(db, { strict: true })
  })

  test('an older subscription.updated delivered after a newer one does not undo it', async () => {
    const { campaign } = await longCampaign()
    const gift = await monthlyGift(campaign.slug)
    failNextInvoice(gift.subscriptionId!, { at: inMonths(1) })
    cancelSubscription(gift.subscriptionId!)
    const events = takeEvents('us')
    expect(events.map((e) => e.type)).toEqual(['invoice.payment_failed', 'customer.subscription.updated', 'customer.subscription.deleted'])
    // Deliveries are re-fetched, so in whatever order they arrive the plan ends as Stripe has it now.
    await deliver([...events].reverse(), 'us')
    expect(await planOf(gift.plan.id)).toMatchObject({ status: 'canceled', failedPaymentCount: 1 })
    // The failure was first seen after the gift had ended: the donor hears that it ended, not that Stripe will try again.
    expect(await outboxTemplates()).toEqual(['gift-thank-you', 'monthly-gift-ended'])
  })
})
