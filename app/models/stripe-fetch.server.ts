// Reading Stripe's current state. A webhook event is only a hint that something changed: events
// arrive late, twice, or out of order, so we re-fetch the objects they name and apply what is
// true now. Fetching happens before the database transaction opens (never hold one across an
// API call).
import type Stripe from 'stripe'
import type { BalanceFacts } from './ledger.server.ts'

export interface ChargeSnapshot {
  charge: Stripe.Charge
  balance: Stripe.BalanceTransaction | null
  paymentIntent: Stripe.PaymentIntent | null
  refunds: Stripe.Refund[]
  disputes: Stripe.Dispute[]
  /** Set when the charge pays a subscription invoice. */
  invoice: InvoiceSnapshot | null
}

export interface InvoiceSnapshot {
  invoice: Stripe.Invoice
  subscription: Stripe.Subscription | null
  paymentIntentId: string | null
  /**
   * An unpaid invoice's latest attempt, as its PaymentIntent shows it: `processing` is a bank
   * debit on its way, `requires_payment_method` or `canceled` a failure. Null when not attempted.
   */
  attempt?: { status: Stripe.PaymentIntent.Status; error: Stripe.PaymentIntent.LastPaymentError | null } | null
}

export interface SessionSnapshot {
  session: Stripe.Checkout.Session
  paymentIntent: Stripe.PaymentIntent | null
  charge: ChargeSnapshot | null
  invoice: InvoiceSnapshot | null
}

export type Snapshot =
  | { kind: 'session'; session: SessionSnapshot }
  | { kind: 'invoice'; invoice: InvoiceSnapshot; charge: ChargeSnapshot | null }
  | { kind: 'charge'; charge: ChargeSnapshot }
  | { kind: 'subscription'; subscription: Stripe.Subscription; fetchedAt: Date }
  | { kind: 'payout'; payout: Stripe.Payout }
  | { kind: 'none' }

const id = (value: string | { id: string } | null | undefined) => (typeof value === 'string' ? value : (value?.id ?? null))

export async function fetchCharge(stripe: Stripe, chargeId: string, options: { withInvoice?: boolean } = {}): Promise<ChargeSnapshot> {
  // Every webhook spends the account's API read rate. `disputed` stays true once a charge has
  // ever been disputed, so while it is false there are no disputes to list.
  const [charge, refunds] = await Promise.all([
    stripe.charges.retrieve(chargeId, { expand: ['balance_transaction', 'payment_intent'] }),
    stripe.refunds.list({ charge: chargeId, limit: 100, expand: ['data.balance_transaction', 'data.failure_balance_transaction'] }),
  ])
  const disputes = charge.disputed ? await stripe.disputes.list({ charge: chargeId, limit: 100 }) : { data: [] as Stripe.Dispute[] }
  const paymentIntent = typeof charge.payment_intent === 'object' ? charge.payment_intent : null
  let invoice: InvoiceSnapshot | null = null
  // A subscription payment's intent carries no donation id; its invoice says which plan it pays.
  if (options.withInvoice !== false && paymentIntent && !paymentIntent.metadata?.donation_id) {
    const payments = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntent.id }, limit: 1 })
    const invoiceId = id(payments.data[0]?.invoice)
    if (invoiceId) invoice = await fetchInvoice(stripe, invoiceId, { withCharge: false }).then((s) => s.invoice)
  }
  return {
    charge,
    balance: typeof charge.balance_transaction === 'object' ? charge.balance_transaction : null,
    paymentIntent,
    refunds: refunds.data,
    disputes: disputes.data,
    invoice,
  }
}

export async function fetchInvoice(
  stripe: Stripe,
  invoiceId: string,
  options: { withCharge?: boolean } = {},
): Promise<{ invoice: InvoiceSnapshot; charge: ChargeSnapshot | null }> {
  const invoice = await stripe.invoices.retrieve(invoiceId)
  const subscriptionId = id(invoice.parent?.subscription_details?.subscription)
  const attempted = invoice.status === 'open' && invoice.attempt_count > 0
  const [subscription, payments] = await Promise.all([
    subscriptionId ? stripe.subscriptions.retrieve(subscriptionId) : null,
    invoice.status === 'paid' || attempted ? stripe.invoicePayments.list({ invoice: invoiceId, limit: 10 }) : null,
  ])
  const paid = payments?.data.find((p) => p.status === 'paid' && p.payment.type === 'payment_intent')
  const paymentIntentId = id(paid?.payment.payment_intent)
  // An open invoice has one open payment, whose intent each retry reuses or replaces.
  const openIntentId = attempted ? id(payments?.data.find((p) => p.status === 'open' && p.payment.type === 'payment_intent')?.payment.payment_intent) : null
  const openIntent = openIntentId ? await stripe.paymentIntents.retrieve(openIntentId) : null
  const attempt = openIntent ? { status: openIntent.status, error: openIntent.last_payment_error } : null
  const snapshot: InvoiceSnapshot = { invoice, subscription, paymentIntentId, attempt }
  let charge: ChargeSnapshot | null = null
  if (options.withCharge !== false && paymentIntentId) {
    const intent = await stripe.paymentIntents.retrieve(paymentIntentId)
    const chargeId = id(intent.latest_charge)
    if (chargeId) charge = { ...(await fetchCharge(stripe, chargeId, { withInvoice: false })), invoice: snapshot }
  }
  return { invoice: snapshot, charge }
}

export async function fetchSession(stripe: Stripe, sessionId: string): Promise<SessionSnapshot> {
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] })
  const paymentIntent = typeof session.payment_intent === 'object' ? session.payment_intent : null
  const chargeId = id(paymentIntent?.latest_charge)
  const invoiceId = id(session.invoice)
  const [charge, invoice] = await Promise.all([
    chargeId ? fetchCharge(stripe, chargeId, { withInvoice: false }) : null,
    invoiceId ? fetchInvoice(stripe, invoiceId) : null,
  ])
  return { session, paymentIntent, charge: charge ?? invoice?.charge ?? null, invoice: invoice?.invoice ?? null }
}

/** Which objects an event is about, fetched as they are now. */
export async function fetchSnapshot(stripe: Stripe, event: Stripe.Event): Promise<Snapshot> {
  const object = event.data.object as { id: string; object: string; charge?: string | { id: string } }
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired':
      return { kind: 'session', session: await fetchSession(stripe, object.id) }
    case 'invoice.paid':
    case 'invoice.payment_failed':
      return { kind: 'invoice', ...(await fetchInvoice(stripe, object.id)) }
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return { kind: 'subscription', subscription: await stripe.subscriptions.retrieve(object.id), fetchedAt: new Date() }
    case 'charge.refunded':
      return { kind: 'charge', charge: await fetchCharge(stripe, object.id) }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
    case 'charge.dispute.created':
    case 'charge.dispute.updated':
    case 'charge.dispute.closed':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.funds_reinstated': {
      const chargeId = id(object.charge)
      return chargeId ? { kind: 'charge', charge: await fetchCharge(stripe, chargeId) } : { kind: 'none' }
    }
    case 'payout.paid':
    case 'payout.failed':
      return { kind: 'payout', payout: await stripe.payouts.retrieve(object.id) }
    default:
      return { kind: 'none' }
  }
}

/** Stripe's balance transaction in our terms; exchange_rate becomes an exact decimal string. */
export function balanceFacts(balance: Stripe.BalanceTransaction): BalanceFacts & { exchangeRate: string | null } {
  return {
    id: balance.id,
    amountMinor: balance.amount,
    feeMinor: balance.fee,
    netMinor: balance.net,
    currency: balance.currency.toUpperCase(),
    at: new Date(balance.created * 1000),
    exchangeRate: balance.exchange_rate === null ? null : decimal(balance.exchange_rate),
  }
}

function decimal(rate: number): string {
  return rate.toFixed(8).replace(/\.?0+$/, '')
}

export function expandedBalance(value: string | Stripe.BalanceTransaction | null | undefined): Stripe.BalanceTransaction | null {
  return value && typeof value === 'object' ? value : null
}

export { id as stripeId }
