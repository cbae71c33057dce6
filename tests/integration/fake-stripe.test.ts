// The fake Stripe answers the real `stripe` client the way Stripe does for everything the app
// relies on: sessions, idempotency, expansion, money objects, monthly giving, payouts, errors and
// signed events. If one of these fails, business code tested against the fake can't be trusted.
import Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { getStripe } from '#app/utils/stripe.server.ts'
import {
  closeDispute,
  completeCheckout,
  createPayout,
  expireCheckout,
  failNextInvoice,
  failRefund,
  cancelSubscription,
  openDispute,
  payNextInvoice,
  refundCharge,
  refundSucceeds,
  settleAsyncPayment,
} from '#tests/mocks/stripe/simulate.ts'
import { getFakeObject, setFakeExchangeRate, signedWebhook, takeEvents } from '#tests/mocks/stripe/state.ts'

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600
const bt = (value: unknown) => value as Stripe.BalanceTransaction

function paymentParams(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    submit_type: 'donate',
    line_items: [
      { quantity: 1, price_data: { currency: 'gbp', unit_amount: 2500, product_data: { name: 'Gift to Freedom Fund' } } },
      { quantity: 1, price_data: { currency: 'gbp', unit_amount: 100, product_data: { name: 'Card fees you chose to cover' } } },
    ],
    client_reference_id: 'donation-1',
    customer_email: 'ada@example.org',
    metadata: { donation_id: 'donation-1', campaign_id: '7' },
    payment_intent_data: { metadata: { donation_id: 'donation-1', campaign_id: '7' }, description: 'Gift to Freedom Fund' },
    success_url: 'http://localhost:3000/donations/donation-1/thanks?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://localhost:3000/donations/donation-1/cancel',
    expires_at: inAnHour(),
    ...overrides,
  }
}

async function paidGbpGift() {
  const stripe = getStripe('us')
  const session = await stripe.checkout.sessions.create(paymentParams())
  completeCheckout(session.id, { outcome: 'paid', name: 'Ada Lovelace', country: 'GB' })
  const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent.latest_charge.balance_transaction'] })
  const intent = paid.payment_intent as Stripe.PaymentIntent
  const charge = intent.latest_charge as Stripe.Charge
  takeEvents()
  return { stripe, session: paid, intent, charge }
}

describe('checkout sessions', () => {
  test('create round-trips the parameters, retrieve and line items agree, expire ends it', async () => {
    const stripe = getStripe('us')
    const expiresAt = inAnHour()
    const session = await stripe.checkout.sessions.create(paymentParams({ expires_at: expiresAt }))
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'payment',
      submit_type: 'donate',
      status: 'open',
      payment_status: 'unpaid',
      amount_total: 2600,
      currency: 'gbp',
      client_reference_id: 'donation-1',
      customer_email: 'ada@example.org',
      metadata: { donation_id: 'donation-1', campaign_id: '7' },
      expires_at: expiresAt,
      payment_intent: null,
      subscription: null,
      invoice: null,
      customer: null,
      customer_details: null,
      livemode: false,
      url: `http://localhost:3000/sandbox/checkout/us/${session.id}`,
    })
    expect(session.id).toMatch(/^cs_test_\w+$/)
    const again = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] })
    expect(again.line_items?.data.map((item) => [item.description, item.amount_total, item.price?.unit_amount])).toEqual([
      ['Gift to Freedom Fund', 2500, 2500],
      ['Card fees you chose to cover', 100, 100],
    ])
    const items = await stripe.checkout.sessions.listLineItems(session.id)
    expect(items.data).toHaveLength(2)

    const expired = await stripe.checkout.sessions.expire(session.id)
    expect(expired).toMatchObject({ status: 'expired', url: null })
    expect(takeEvents('us').map((e) => e.type)).toEqual(['checkout.session.expired'])
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400 })
  })

  test('an idempotency key replays the first response, and refuses other parameters', async () => {
    const stripe = getStripe('us')
    const params = paymentParams()
    const first = await stripe.checkout.sessions.create(params, { idempotencyKey: 'checkout:donation-1' })
    const replay = await stripe.checkout.sessions.create(params, { idempotencyKey: 'checkout:donation-1' })
    expect(replay.id).toBe(first.id)
    await expect(
      stripe.checkout.sessions.create({ ...params, customer_email: 'someone-else@example.org' }, { idempotencyKey: 'checkout:donation-1' }),
    ).rejects.toMatchObject({ type: 'StripeIdempotencyError', statusCode: 400 })
  })

  test('Stripe-style validation: expires_at window, missing mode or line items, unknown parameters', async () => {
    const stripe = getStripe('us')
    const now = Math.floor(Date.now() / 1000)
    for (const expiresAt of [now + 29 * 60, now + 25 * 3600]) {
      await expect(stripe.checkout.sessions.create(paymentParams({ expires_at: expiresAt }))).rejects.toMatchObject({
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        param: 'expires_at',
      })
    }
    await expect(stripe.checkout.sessions.create(paymentParams({ mode: undefined }))).rejects.toMatchObject({ param: 'mode', code: 'parameter_missing' })
    await expect(stripe.checkout.sessions.create(paymentParams({ line_items: undefined }))).rejects.toMatchObject({ param: 'line_items' })
    await expect(
      stripe.checkout.sessions.create({ ...paymentParams(), surprise: 'x' } as Stripe.Checkout.SessionCreateParams),
    ).rejects.toMatchObject({ code: 'parameter_unknown', param: 'surprise' })
  })

  test('a paid checkout: charge, intent and session events in order, the BT converted with fee and rate', async () => {
    const stripe = getStripe('us')
    const session = await stripe.checkout.sessions.create(paymentParams())
    const events = completeCheckout(session.id, { outcome: 'paid', name: 'Ada Lovelace', country: 'GB' })
    expect(events.map((e) => e.type)).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed'])
    expect(takeEvents('us').map((e) => e.id)).toEqual(events.map((e) => e.id))

    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent.latest_charge.balance_transaction'] })
    expect(paid).toMatchObject({
      status: 'complete',
      payment_status: 'paid',
      customer_details: { email: 'ada@example.org', name: 'Ada Lovelace', address: { country: 'GB' } },
    })
    const intent = paid.payment_intent as Stripe.PaymentIntent
    expect(intent).toMatchObject({ status: 'succeeded', amount: 2600, currency: 'gbp', metadata: { donation_id: 'donation-1', campaign_id: '7' } })
    const charge = intent.latest_charge as Stripe.Charge
    expect(charge).toMatchObject({ status: 'succeeded', paid: true, amount: 2600, amount_refunded: 0, refunded: false, disputed: false, payment_intent: intent.id })
    // 26.00 GBP → USD at 1.27 = 3302; fee 3.9% (converted) + 30 = 129 + 30.
    expect(charge.balance_transaction).toMatchObject({ type: 'charge', reporting_category: 'charge', source: charge.id, currency: 'usd', amount: 3302, fee: 159, net: 3143, exchange_rate: 1.27, status: 'available' })

    const direct = await stripe.charges.retrieve(charge.id, { expand: ['balance_transaction', 'payment_intent'] })
    expect(bt(direct.balance_transaction).id).toBe(bt(charge.balance_transaction).id)
    expect((direct.payment_intent as Stripe.PaymentIntent).id).toBe(intent.id)
  })

  test('bank debits: processing, then settled or failed; a declined card changes nothing', async () => {
    const stripe = getStripe('us')
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => stripe.checkout.sessions.create(paymentParams({ currency: undefined }))))
    expect(completeCheckout(a!.id, { outcome: 'declined' })).toEqual([])
    expect((await stripe.checkout.sessions.retrieve(a!.id)).status).toBe('open')

    expect(completeCheckout(b!.id, { outcome: 'processing' }).map((e) => e.type)).toEqual(['checkout.session.completed'])
    let session = await stripe.checkout.sessions.retrieve(b!.id, { expand: ['payment_intent'] })
    expect(session).toMatchObject({ status: 'complete', payment_status: 'unpaid', payment_intent: { status: 'processing', latest_charge: null } })
    expect(settleAsyncPayment(b!.id, true).map((e) => e.type)).toContain('checkout.session.async_payment_succeeded')
    session = await stripe.checkout.sessions.retrieve(b!.id, { expand: ['payment_intent.latest_charge'] })
    expect(session).toMatchObject({ payment_status: 'paid', payment_intent: { status: 'succeeded', latest_charge: { status: 'succeeded' } } })

    completeCheckout(c!.id, { outcome: 'processing' })
    expect(settleAsyncPayment(c!.id, false).map((e) => e.type)).toContain('checkout.session.async_payment_failed')
    expect(await stripe.paymentIntents.retrieve(String((await stripe.checkout.sessions.retrieve(c!.id)).payment_intent))).toMatchObject({
      status: 'requires_payment_method',
    })
    expect(expireCheckout(a!.id).map((e) => e.type)).toEqual(['checkout.session.expired'])
  })
})

describe('refunds and disputes', () => {
  test('refunds convert at the current rate; a failed refund gives the money back', async () => {
    const { stripe, charge } = await paidGbpGift()
    setFakeExchangeRate('gbp', 'usd', 1.3)
    expect(refundCharge(charge.id, { amount: 1000 }).map((e) => e.type)).toEqual(['refund.created', 'charge.refunded'])
    const [pending] = refundCharge(charge.id, { amount: 600, status: 'pending' })
    const pendingId = (pending!.data.object as Stripe.Refund).id
    expect(refundSucceeds(pendingId).map((e) => e.type)).toEqual(['refund.updated'])
    expect(failRefund(pendingId).map((e) => e.type)).toEqual(['refund.failed', 'refund.updated'])

    const refunds = await stripe.refunds.list({ charge: charge.id, limit: 100, expand: ['data.balance_transaction', 'data.failure_balance_transaction'] })
    expect(refunds).toMatchObject({ object: 'list', has_more: false, url: '/v1/refunds' })
    const [failed, succeeded] = refunds.data // newest first
    expect(succeeded).toMatchObject({ amount: 1000, status: 'succeeded', balance_transaction: { amount: -1300, fee: 0, net: -1300, exchange_rate: 1.3, type: 'refund' } })
    expect(failed).toMatchObject({
      amount: 600,
      status: 'failed',
      balance_transaction: { amount: -780, type: 'refund' },
      failure_balance_transaction: { amount: 780, type: 'refund_failure' },
    })
    expect(await stripe.charges.retrieve(charge.id)).toMatchObject({ amount_refunded: 1000, refunded: false })
    expect((await stripe.refunds.retrieve(failed!.id)).status).toBe('failed')
    await expect(stripe.refunds.create({ charge: charge.id, amount: 5000 })).rejects.toMatchObject({ param: 'amount' })
    expect(await stripe.refunds.create({ charge: charge.id })).toMatchObject({ amount: 1600, status: 'succeeded' })
  })

  test('a dispute withdraws the amount plus the fee, and a won dispute reinstates it', async () => {
    const { stripe, charge } = await paidGbpGift()
    const opened = openDispute(charge.id, { reason: 'fraudulent' })
    expect(opened.map((e) => e.type)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn'])
    const disputeId = (opened[0]!.data.object as Stripe.Dispute).id
    await expect(stripe.refunds.create({ charge: charge.id })).rejects.toMatchObject({ code: 'charge_disputed' })
    setFakeExchangeRate('gbp', 'usd', 1.25)
    expect(closeDispute(disputeId, 'won').map((e) => e.type)).toEqual(['charge.dispute.funds_reinstated', 'charge.dispute.closed'])

    const [dispute] = (await stripe.disputes.list({ charge: charge.id, limit: 100 })).data
    expect(dispute).toMatchObject({ id: disputeId, status: 'won', amount: 2600, charge: charge.id, reason: 'fraudulent' })
    expect(dispute!.balance_transactions.map((b) => [b.reporting_category, b.amount, b.fee, b.net, b.exchange_rate])).toEqual([
      ['dispute', -3302, 1500, -4802, 1.27],
      ['dispute_reversal', 3250, 0, 3250, 1.25],
    ])
    expect((await stripe.disputes.retrieve(disputeId)).status).toBe('won')
    expect((await stripe.charges.retrieve(charge.id)).disputed).toBe(true)
    expect(getFakeObject<Stripe.Dispute>(disputeId)?.status).toBe('won')
  })
})

describe('monthly giving', () => {
  test('subscription, first and later invoices, invoice payments both ways, failure and cancel', async () => {
    const stripe = getStripe('uk')
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      submit_type: 'donate',
      line_items: [{ quantity: 1, price_data: { currency: 'gbp', unit_amount: 1500, product_data: { name: 'Monthly gift' }, recurring: { interval: 'month' } } }],
      customer_email: 'grace@example.org',
      subscription_data: { metadata: { donation_id: 'd-1', recurring_plan_id: 'p-1' } },
      success_url: 'http://localhost:3000/thanks?session_id={CHECKOUT_SESSION_ID}',
      expires_at: inAnHour(),
    })
    const start = new Date('2030-01-31T12:00:00Z')
    const events = completeCheckout(session.id, { outcome: 'paid', at: start })
    expect(events.map((e) => e.type)).toEqual(['customer.subscription.created', 'invoice.paid', 'checkout.session.completed'])

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription', 'invoice'] })
    const subscription = done.subscription as Stripe.Subscription
    const invoice = done.invoice as Stripe.Invoice
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', payment_intent: null })
    expect(subscription).toMatchObject({ status: 'active', metadata: { donation_id: 'd-1', recurring_plan_id: 'p-1' }, start_date: start.getTime() / 1000, canceled_at: null })
    expect(invoice).toMatchObject({
      billing_reason: 'subscription_create',
      status: 'paid',
      amount_paid: 1500,
      amount_due: 1500,
      currency: 'gbp',
      attempt_count: 1,
      parent: { type: 'subscription_details', subscription_details: { subscription: subscription.id, metadata: { donation_id: 'd-1', recurring_plan_id: 'p-1' } } },
      status_transitions: { paid_at: start.getTime() / 1000 },
    })
    expect(invoice).not.toHaveProperty('payment_intent')
    expect(invoice).not.toHaveProperty('paid')

    const [byInvoice] = (await stripe.invoicePayments.list({ invoice: invoice.id })).data
    expect(byInvoice).toMatchObject({ object: 'invoice_payment', invoice: invoice.id, status: 'paid', amount_paid: 1500, payment: { type: 'payment_intent' } })
    const intentId = byInvoice!.payment.payment_intent as string
    const [byIntent] = (await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: intentId } })).data
    expect(byIntent!.id).toBe(byInvoice!.id)
    const intent = await stripe.paymentIntents.retrieve(intentId, { expand: ['latest_charge.balance_transaction'] })
    // A GBP charge into the UK account: no conversion, fee 2.9% + 30.
    expect((intent.latest_charge as Stripe.Charge).balance_transaction).toMatchObject({ amount: 1500, currency: 'gbp', fee: 74, net: 1426, exchange_rate: null })

    const next = payNextInvoice(subscription.id, { at: new Date('2030-02-28T12:00:00Z') })
    expect(next.map((e) => e.type)).toEqual(['invoice.paid'])
    const cycle = next[0]!.data.object as Stripe.Invoice
    expect(cycle).toMatchObject({ billing_reason: 'subscription_cycle', status: 'paid', amount_paid: 1500 })
    expect(cycle.lines.data[0]!.period).toEqual({ start: Date.UTC(2030, 1, 28, 12) / 1000, end: Date.UTC(2030, 2, 31, 12) / 1000 })

    const failed = failNextInvoice(subscription.id, { at: new Date('2030-03-31T12:00:00Z') })
    expect(failed.map((e) => e.type)).toEqual(['invoice.payment_failed', 'customer.subscription.updated'])
    expect(failed[1]!.data.previous_attributes).toEqual({ status: 'active' })
    const open = await stripe.invoices.retrieve((failed[0]!.data.object as Stripe.Invoice).id)
    expect(open).toMatchObject({ status: 'open', attempt_count: 1, amount_paid: 0, amount_due: 1500 })
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due')

    expect(cancelSubscription(subscription.id).map((e) => e.type)).toEqual(['customer.subscription.deleted'])
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', canceled_at: expect.any(Number) })
  })
})

describe('payouts, errors and events', () => {
  test('a payout lists its balance transactions; a failed one has a failure BT', async () => {
    const { stripe } = await paidGbpGift()
    const [paid] = createPayout({ fiscalPartnerId: 'us', status: 'paid' })
    const payout = await stripe.payouts.retrieve((paid!.data.object as Stripe.Payout).id)
    expect(payout).toMatchObject({ amount: 3143, currency: 'usd', status: 'paid', failure_balance_transaction: null, failure_code: null })
    const included = await stripe.balanceTransactions.list({ payout: payout.id, limit: 100 })
    expect(included.data.map((b) => b.type).sort()).toEqual(['charge', 'payout'])
    expect(included.data.reduce((sum, b) => sum + b.net, 0)).toBe(0)

    const [failed] = createPayout({ fiscalPartnerId: 'us', amount: 500, status: 'failed' })
    expect(failed!.type).toBe('payout.failed')
    const failedPayout = await stripe.payouts.retrieve((failed!.data.object as Stripe.Payout).id, { expand: ['failure_balance_transaction'] })
    expect(failedPayout).toMatchObject({ status: 'failed', failure_code: 'account_closed', failure_balance_transaction: { amount: 500, type: 'payout_failure' } })
  })

  test('unknown ids are resource_missing, accounts are separate, bad keys are refused', async () => {
    const us = getStripe('us')
    await expect(us.charges.retrieve('ch_nope')).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'id',
      message: "No such charge: 'ch_nope'",
    })
    const session = await us.checkout.sessions.create(paymentParams())
    await expect(getStripe('nz').checkout.sessions.retrieve(session.id)).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    const stranger = new Stripe('sk_test_not_ours', { httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 0 })
    await expect(stranger.charges.retrieve('ch_x')).rejects.toMatchObject({ type: 'StripeAuthenticationError', statusCode: 401 })
    await expect(us.checkout.sessions.retrieve(session.id, { expand: ['nonsense'] })).rejects.toMatchObject({ param: 'expand' })
  })

  test('events are shaped like Stripe’s and verify with the account’s webhook secret', async () => {
    const { session } = await paidGbpGift()
    expireCheckout((await getStripe('us').checkout.sessions.create(paymentParams())).id)
    const [event] = takeEvents('us')
    expect(event).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      object: 'event',
      api_version: '2026-10-28.endive',
      created: expect.any(Number),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'checkout.session.expired',
      data: { object: { object: 'checkout.session', status: 'expired' }, previous_attributes: { status: 'open' } },
    })
    const { body, headers } = signedWebhook(event!, 'us')
    const verified = Stripe.webhooks.constructEvent(body, headers['stripe-signature']!, 'whsec_sandbox_us')
    expect(verified.id).toBe(event!.id)
    expect(() => Stripe.webhooks.constructEvent(body, headers['stripe-signature']!, 'whsec_sandbox_uk')).toThrow(Stripe.errors.StripeSignatureVerificationError)
    // An event's object is a snapshot: later changes at Stripe don't rewrite it.
    expect(session.status).toBe('complete')
    expect(takeEvents()).toEqual([])
  })
})
