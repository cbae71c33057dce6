// What happens at Stripe outside our API calls: a donor paying on the checkout page, a bank debit
// confirming days later, refunds, disputes, monthly renewals, payouts. Each simulation changes
// the fake's state as Stripe would, queues the events Stripe would send (takeEvents drains them;
// the offline sandbox delivers them) and returns those events.
import type Stripe from 'stripe'
import type { FiscalPartnerId } from '#app/utils/env.server.ts'
import { addMonths, attemptInvoice, billingOf, createCustomer, createInvoice, createSubscription, customerOf, type InvoiceLine } from './billing.ts'
import { chargeIntent, createBalanceTransaction, createDispute, createPaymentIntent, createPayoutObject, createRefund, type Billing } from './payments.ts'
import {
  accountFor,
  allAccounts,
  allObjects,
  find,
  invalid,
  locate,
  mustFind,
  newId,
  queueEvent,
  toSettlement,
  unix,
  wireDecimal,
  type AccountState,
} from './state.ts'

export type CheckoutOutcome = 'paid' | 'processing' | 'declined'

const homeCountry: Record<FiscalPartnerId, string> = { us: 'US', uk: 'GB', nz: 'NZ' }
const id = (value: string | { id: string } | null) => (typeof value === 'string' ? value : (value?.id ?? null))

/** The donor submits the checkout page. 'declined' changes nothing: Stripe keeps the session open. */
export function completeCheckout(
  sessionId: string,
  options: { outcome: CheckoutOutcome; email?: string; name?: string; country?: string; at?: Date },
): Stripe.Event[] {
  const { account, object: session } = locate('checkout.session', sessionId)
  const at = unix(options.at)
  requireOpen(account, session)
  if (options.outcome === 'declined') return []
  const setup = account.sessions.get(session.id)!
  const billing: Billing = {
    email: options.email ?? session.customer_email ?? 'donor@example.org',
    name: options.name ?? 'Sandbox Donor',
    country: options.country ?? homeCountry[account.config.fiscalPartnerId],
  }
  const details: Stripe.Checkout.Session.CustomerDetails = {
    address: { city: null, country: billing.country, line1: null, line2: null, postal_code: null, state: null },
    business_name: null,
    email: billing.email,
    individual_name: null,
    name: billing.name,
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  }
  const done = { status: 'complete', customer_details: details, url: null } as const

  if (session.mode === 'subscription') {
    if (options.outcome === 'processing') throw invalid('The fake Stripe does not simulate bank debits for subscriptions: use outcome "paid".')
    const customer = createCustomer(account, billing, at)
    const recurring = setup.lineItems.filter((line) => line.price?.recurring)
    const subscription = createSubscription(account, {
      customer: customer.id,
      prices: recurring.map((line) => ({ price: line.price!, quantity: line.quantity ?? 1 })),
      metadata: setup.subscriptionData.metadata,
      description: setup.subscriptionData.description,
      at,
    })
    const lines = setup.lineItems.map((line): InvoiceLine => {
      const item = subscription.items.data.find((i) => i.price.id === line.price!.id)
      const period = item ? { start: item.current_period_start, end: item.current_period_end } : { start: at, end: at }
      return { amount: line.amount_total, description: `${line.quantity ?? 1} × ${line.description}`, price: line.price!, quantity: line.quantity ?? 1, subscriptionItem: item?.id ?? null, period }
    })
    const invoice = createInvoice(account, { subscription, customer, lines, billingReason: 'subscription_create', period: { start: at, end: at }, at })
    attemptInvoice(account, invoice, { succeed: true, billing, at })
    subscription.latest_invoice = invoice.id
    Object.assign(session, { ...done, payment_status: 'paid', customer: customer.id, subscription: subscription.id, invoice: invoice.id })
    return [
      queueEvent(account, 'customer.subscription.created', subscription, { at }),
      queueEvent(account, 'invoice.paid', invoice, { at }),
      queueEvent(account, 'checkout.session.completed', session, { at }),
    ]
  }

  const customer = setup.customerCreation === 'always' ? createCustomer(account, billing, at) : null
  const intent = createPaymentIntent(account, {
    amount: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    customer: customer?.id ?? null,
    metadata: setup.paymentIntentData.metadata,
    description: setup.paymentIntentData.description,
    status: options.outcome === 'processing' ? 'processing' : 'requires_payment_method',
    method: options.outcome === 'processing' ? 'bank_debit' : 'card',
    at,
  })
  Object.assign(session, { ...done, payment_intent: intent.id, customer: customer?.id ?? null })
  if (options.outcome === 'processing') {
    // A bank debit: the donor is done, the money is not; Stripe says so days later.
    return [queueEvent(account, 'checkout.session.completed', session, { at })]
  }
  const charge = chargeIntent(account, intent, billing, at)
  session.payment_status = 'paid'
  return [
    queueEvent(account, 'charge.succeeded', charge, { at }),
    queueEvent(account, 'payment_intent.succeeded', intent, { at }),
    queueEvent(account, 'checkout.session.completed', session, { at }),
  ]
}

/** A bank debit that was 'processing' confirms (charge, balance) or fails. */
export function settleAsyncPayment(sessionId: string, succeeded: boolean, options: { at?: Date } = {}): Stripe.Event[] {
  const { account, object: session } = locate('checkout.session', sessionId)
  const at = unix(options.at)
  const intent = session.payment_intent ? find(account, 'payment_intent', id(session.payment_intent)!) : undefined
  if (session.status !== 'complete' || !intent || intent.status !== 'processing') {
    throw invalid(`Checkout Session ${session.id} has no bank debit waiting to settle.`)
  }
  if (!succeeded) {
    intent.status = 'requires_payment_method'
    intent.last_payment_error = {
      type: 'invalid_request_error',
      code: 'payment_method_provider_decline',
      message: 'The customer’s bank declined the debit.',
      payment_method_type: intent.payment_method_types[0],
    }
    return [
      queueEvent(account, 'payment_intent.payment_failed', intent, { at, previous: { status: 'processing' } }),
      queueEvent(account, 'checkout.session.async_payment_failed', session, { at }),
    ]
  }
  const details = session.customer_details
  const charge = chargeIntent(account, intent, { email: details?.email ?? null, name: details?.name ?? null, country: details?.address?.country ?? null }, at)
  session.payment_status = 'paid'
  return [
    queueEvent(account, 'charge.succeeded', charge, { at }),
    queueEvent(account, 'payment_intent.succeeded', intent, { at, previous: { status: 'processing' } }),
    queueEvent(account, 'checkout.session.async_payment_succeeded', session, { at, previous: { payment_status: 'unpaid' } }),
  ]
}

/** The session's time runs out (or the app expires it): checkout.session.expired. */
export function expireCheckout(sessionId: string, options: { at?: Date } = {}): Stripe.Event[] {
  const { account, object: session } = locate('checkout.session', sessionId)
  return [expireSession(account, session, unix(options.at))]
}

/** Expires every open session whose expires_at has passed (the sandbox calls this on a timer). */
export function expireDueSessions(now: Date = new Date()): Stripe.Event[] {
  const at = unix(now)
  return allAccounts().flatMap((account) =>
    allObjects(account, 'checkout.session')
      .filter((session) => session.status === 'open' && session.expires_at <= at)
      .map((session) => expireSession(account, session, at)),
  )
}

export function expireSession(account: AccountState, session: Stripe.Checkout.Session, at: number): Stripe.Event {
  if (session.status !== 'open') throw invalid('Only Checkout Sessions with a status in ["open"] can be expired.')
  Object.assign(session, { status: 'expired', url: null })
  return queueEvent(account, 'checkout.session.expired', session, { at, previous: { status: 'open' } })
}

/** `at` only stamps objects; whether the session is still open depends on the real clock. */
function requireOpen(account: AccountState, session: Stripe.Checkout.Session) {
  const now = unix()
  if (session.status === 'open' && session.expires_at <= now) expireSession(account, session, now)
  if (session.status !== 'open') throw invalid(`This Checkout Session is ${session.status === 'complete' ? 'already complete' : 'expired'}.`)
}

// ---------------------------------------------------------------------------------------------
// Refunds and disputes

export function refundCharge(
  chargeId: string,
  options: { amount?: number; status?: 'succeeded' | 'pending'; reason?: Stripe.Refund.Reason; metadata?: Stripe.Metadata; at?: Date } = {},
): Stripe.Event[] {
  const { account, object: charge } = locate('charge', chargeId)
  return issueRefund(account, charge, { ...options, at: unix(options.at) }).events
}

/** POST /v1/refunds and refundCharge: Stripe's checks, the refund, its balance transaction. */
export function issueRefund(
  account: AccountState,
  charge: Stripe.Charge,
  options: { amount?: number; status?: 'succeeded' | 'pending'; reason?: Stripe.Refund.Reason | null; metadata?: Stripe.Metadata; at: number },
): { refund: Stripe.Refund; events: Stripe.Event[] } {
  const remaining = charge.amount - charge.amount_refunded
  const amount = options.amount ?? remaining
  if (charge.status !== 'succeeded') throw invalid(`Charge ${charge.id} has not succeeded; it cannot be refunded.`, 'charge')
  if (remaining <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, 'charge', 'charge_already_refunded')
  if (amount <= 0 || amount > remaining) {
    throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount', 'amount_too_large')
  }
  const open = allObjects(account, 'dispute').find((d) => d.charge === charge.id && !['won', 'lost', 'warning_closed'].includes(d.status))
  if (open && !open.is_charge_refundable) throw invalid(`Charge ${charge.id} has been charged back; cannot issue a refund.`, 'charge', 'charge_disputed')
  const refund = createRefund(account, charge, { amount, status: options.status ?? 'succeeded', reason: options.reason ?? null, metadata: options.metadata ?? {}, at: options.at })
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded }
  charge.amount_refunded += amount
  charge.refunded = charge.amount_refunded === charge.amount
  return {
    refund,
    events: [queueEvent(account, 'refund.created', refund, { at: options.at }), queueEvent(account, 'charge.refunded', charge, { at: options.at, previous })],
  }
}

/** A pending refund (e.g. to a bank debit) completes. */
export function refundSucceeds(refundId: string, options: { at?: Date } = {}): Stripe.Event[] {
  const { account, object: refund } = locate('refund', refundId)
  if (refund.status !== 'pending') throw invalid(`Refund ${refund.id} is ${refund.status}, not pending.`)
  refund.status = 'succeeded'
  return [queueEvent(account, 'refund.updated', refund, { at: unix(options.at), previous: { status: 'pending' } })]
}

/** The refund could not reach the donor: the money comes back (failure balance transaction). */
export function failRefund(refundId: string, options: { at?: Date } = {}): Stripe.Event[] {
  const { account, object: refund } = locate('refund', refundId)
  const at = unix(options.at)
  if (refund.status !== 'pending' && refund.status !== 'succeeded') throw invalid(`Refund ${refund.id} is ${refund.status}; it cannot fail.`)
  const original = mustFind(account, 'balance_transaction', id(refund.balance_transaction)!)
  const failure = createBalanceTransaction(account, {
    amount: -original.amount,
    exchangeRate: original.exchange_rate,
    type: 'refund_failure',
    reportingCategory: 'refund_failure',
    source: refund.id,
    description: `REFUND FAILURE FOR ${refund.id}`,
    at,
  })
  const previous = { status: refund.status }
  Object.assign(refund, { status: 'failed', failure_reason: 'expired_or_canceled_card', failure_balance_transaction: failure.id })
  const charge = mustFind(account, 'charge', id(refund.charge)!)
  charge.amount_refunded -= refund.amount
  charge.refunded = false
  return [queueEvent(account, 'refund.failed', refund, { at, previous }), queueEvent(account, 'refund.updated', refund, { at, previous })]
}

export function openDispute(chargeId: string, options: { amount?: number; reason?: string; at?: Date } = {}): Stripe.Event[] {
  const { account, object: charge } = locate('charge', chargeId)
  const at = unix(options.at)
  if (charge.disputed) throw invalid(`Charge ${charge.id} is already disputed.`)
  const dispute = createDispute(account, charge, { amount: options.amount ?? charge.amount, reason: options.reason ?? 'fraudulent', at })
  charge.disputed = true
  return [queueEvent(account, 'charge.dispute.created', dispute, { at }), queueEvent(account, 'charge.dispute.funds_withdrawn', dispute, { at })]
}

export function closeDispute(disputeId: string, outcome: 'won' | 'lost', options: { at?: Date } = {}): Stripe.Event[] {
  const { account, object: dispute } = locate('dispute', disputeId)
  const at = unix(options.at)
  if (dispute.status === 'won' || dispute.status === 'lost') throw invalid(`Dispute ${dispute.id} is already closed (${dispute.status}).`)
  const previous = { status: dispute.status }
  dispute.status = outcome
  if (outcome === 'lost') return [queueEvent(account, 'charge.dispute.closed', dispute, { at, previous })]
  // Won: the disputed amount comes back, converted at today's rate; the dispute fee does not.
  const settled = toSettlement(account, dispute.amount, dispute.currency)
  const reinstatement = createBalanceTransaction(account, {
    amount: settled.amount,
    exchangeRate: settled.exchange_rate,
    type: 'adjustment',
    reportingCategory: 'dispute_reversal',
    source: dispute.id,
    description: `Chargeback reversal for ${id(dispute.charge)}`,
    at,
  })
  dispute.balance_transactions.push(reinstatement)
  return [queueEvent(account, 'charge.dispute.funds_reinstated', dispute, { at }), queueEvent(account, 'charge.dispute.closed', dispute, { at, previous })]
}

// ---------------------------------------------------------------------------------------------
// Monthly giving

/** The next month is billed and paid (or a failed invoice is retried successfully). */
export function payNextInvoice(subscriptionId: string, options: { at: Date }): Stripe.Event[] {
  return billNext(subscriptionId, true, unix(options.at))
}

/** The next month's payment fails: invoice open (attempt_count 1), subscription past_due. */
export function failNextInvoice(subscriptionId: string, options: { at: Date }): Stripe.Event[] {
  return billNext(subscriptionId, false, unix(options.at))
}

function billNext(subscriptionId: string, succeed: boolean, at: number): Stripe.Event[] {
  const { account, object: subscription } = locate('subscription', subscriptionId)
  if (subscription.status !== 'active' && subscription.status !== 'past_due') {
    throw invalid(`Subscription ${subscription.id} is ${subscription.status}; it is not billed.`)
  }
  const customer = customerOf(account, subscription)
  const latest = subscription.latest_invoice ? find(account, 'invoice', id(subscription.latest_invoice)!) : undefined
  let invoice = latest?.status === 'open' ? latest : undefined
  if (!invoice) {
    const first = subscription.items.data[0]!
    const previous = { start: first.current_period_start, end: first.current_period_end }
    // Periods follow the billing anchor, so a 31st-of-the-month gift comes back to the 31st.
    let months = 1
    while (addMonths(subscription.billing_cycle_anchor, months) <= previous.end) months++
    const period = { start: previous.end, end: addMonths(subscription.billing_cycle_anchor, months) }
    for (const item of subscription.items.data) Object.assign(item, { current_period_start: period.start, current_period_end: period.end })
    const lines = subscription.items.data.map((item): InvoiceLine => {
      const amount = (item.price.unit_amount ?? 0) * (item.quantity ?? 1)
      const product = find(account, 'product', id(item.price.product as string)!)
      return { amount, description: `${item.quantity ?? 1} × ${product?.name ?? item.price.id}`, price: item.price, quantity: item.quantity ?? 1, subscriptionItem: item.id, period }
    })
    invoice = createInvoice(account, { subscription, customer, lines, billingReason: 'subscription_cycle', period: previous, at })
    subscription.latest_invoice = invoice.id
  }
  attemptInvoice(account, invoice, { succeed, billing: billingOf(customer), at })
  const events: Stripe.Event[] = [queueEvent(account, succeed ? 'invoice.paid' : 'invoice.payment_failed', invoice, { at })]
  const status = succeed ? 'active' : 'past_due'
  if (subscription.status !== status) {
    const previous = { status: subscription.status }
    subscription.status = status
    events.push(queueEvent(account, 'customer.subscription.updated', subscription, { at, previous }))
  }
  return events
}

/**
 * The subscription ends: cancelled on request (the API, the Dashboard), or by Stripe once its
 * retries of a failed payment are exhausted (`reason: 'payment_failed'`).
 */
export function cancelSubscription(
  subscriptionId: string,
  options: { at?: Date; reason?: 'cancellation_requested' | 'payment_failed' } = {},
): Stripe.Event[] {
  const { account, object: subscription } = locate('subscription', subscriptionId)
  return [endSubscription(account, subscription, unix(options.at), options.reason)]
}

/**
 * Finance changes a monthly gift's amount in the Dashboard: the item's price now charges
 * `unitAmount`, from the next invoice on (customer.subscription.updated).
 */
export function changeSubscriptionAmount(subscriptionId: string, unitAmount: number, options: { at?: Date } = {}): Stripe.Event[] {
  const { account, object: subscription } = locate('subscription', subscriptionId)
  const item = subscription.items.data[0]!
  const previous = { items: structuredClone(subscription.items) }
  item.price = { ...item.price, id: newId('price'), unit_amount: unitAmount, unit_amount_decimal: wireDecimal(unitAmount) }
  return [queueEvent(account, 'customer.subscription.updated', subscription, { at: unix(options.at), previous })]
}

export function endSubscription(
  account: AccountState,
  subscription: Stripe.Subscription,
  at: number,
  reason: 'cancellation_requested' | 'payment_failed' = 'cancellation_requested',
): Stripe.Event {
  if (subscription.status === 'canceled') throw invalid('A canceled subscription can only update its cancellation_details and metadata.')
  Object.assign(subscription, {
    status: 'canceled',
    canceled_at: at,
    ended_at: at,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason },
  } satisfies Partial<Stripe.Subscription>)
  return queueEvent(account, 'customer.subscription.deleted', subscription, { at })
}

// ---------------------------------------------------------------------------------------------
// Payouts

/**
 * An automatic payout of everything not yet paid out (amount defaults to the sum of their net;
 * pass another amount to test a mismatch). GET /v1/balance_transactions?payout= lists them.
 */
export function createPayout(options: { fiscalPartnerId: FiscalPartnerId; amount?: number; status: 'paid' | 'failed'; at?: Date }): Stripe.Event[] {
  const account = accountFor(options.fiscalPartnerId)
  const at = unix(options.at)
  const included = allObjects(account, 'balance_transaction').filter((bt) => !account.paidOut.has(bt.id) && bt.type !== 'payout' && bt.type !== 'payout_failure')
  const amount = options.amount ?? included.reduce((sum, bt) => sum + bt.net, 0)
  if (amount <= 0) throw invalid(`Nothing to pay out for ${options.fiscalPartnerId} (balance ${amount}).`, 'amount')
  const payout = createPayoutObject(account, { amount, status: options.status, at })
  for (const bt of included) account.paidOut.set(bt.id, payout.id)
  account.paidOut.set(id(payout.balance_transaction)!, payout.id)
  return [queueEvent(account, options.status === 'paid' ? 'payout.paid' : 'payout.failed', payout, { at })]
}
