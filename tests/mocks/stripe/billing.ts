// Builders for donors and monthly giving: Customers, Subscriptions (items, plans), Invoices in
// the post-basil shape (no invoice.payment_intent / charge / paid: the link to money is an
// InvoicePayment) and the payment of an invoice through its own PaymentIntent, Charge and BT.
import type Stripe from 'stripe'
import { chargeIntent, createPaymentIntent, type Billing } from './payments.ts'
import { find, newId, store, wireDecimal, type AccountState } from './state.ts'

/** Adds calendar months in UTC, keeping the day where the month has it (Jan 31 → Feb 28). */
export function addMonths(at: number, months: number): number {
  const date = new Date(at * 1000)
  const day = date.getUTCDate()
  date.setUTCDate(1)
  date.setUTCMonth(date.getUTCMonth() + months)
  const last = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate()
  date.setUTCDate(Math.min(day, last))
  return Math.floor(date.getTime() / 1000)
}

export function createCustomer(account: AccountState, billing: Billing, at: number): Stripe.Customer {
  return store(account, {
    id: newId('cus', 14),
    object: 'customer',
    address: { city: null, country: billing.country, line1: null, line2: null, postal_code: null, state: null },
    balance: 0,
    created: at,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    email: billing.email,
    invoice_prefix: newId('X', 6).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: billing.name,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  } satisfies Stripe.Customer)
}

export function createSubscription(
  account: AccountState,
  input: { customer: string; prices: { price: Stripe.Price; quantity: number }[]; metadata: Stripe.Metadata; description: string | null; at: number },
): Stripe.Subscription {
  const id = newId('sub')
  const end = addMonths(input.at, 1)
  const items = input.prices.map(({ price, quantity }) => {
    const recurring = price.recurring!
    return {
      id: newId('si', 14),
      object: 'subscription_item',
      billing_thresholds: null,
      created: input.at,
      current_period_end: end,
      current_period_start: input.at,
      current_trial: null,
      discounts: [],
      metadata: {},
      plan: {
        id: price.id,
        object: 'plan',
        active: false,
        amount: price.unit_amount,
        amount_decimal: wireDecimal(price.unit_amount ?? 0),
        billing_scheme: 'per_unit',
        created: price.created,
        currency: price.currency,
        interval: recurring.interval,
        interval_count: recurring.interval_count,
        livemode: false,
        metadata: {},
        meter: null,
        nickname: null,
        product: typeof price.product === 'string' ? price.product : price.product.id,
        tiers_mode: null,
        transform_usage: null,
        trial_period_days: null,
        usage_type: 'licensed',
      },
      price,
      quantity,
      subscription: id,
      tax_rates: [],
    } satisfies Stripe.SubscriptionItem
  })
  return store(account, {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.at,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: input.at,
    currency: input.prices[0]!.price.currency,
    customer: input.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: newId('pm'),
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { object: 'list', data: items, has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.at,
    status: 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: null,
  } satisfies Stripe.Subscription)
}

export interface InvoiceLine {
  amount: number
  description: string
  price: Stripe.Price
  quantity: number
  /** Set for the subscription's own items; one-time extras on the first invoice have none. */
  subscriptionItem: string | null
  period: { start: number; end: number }
}

const accountNames: Record<string, { name: string; country: string }> = {
  us: { name: 'LIFT International', country: 'US' },
  uk: { name: 'LIFT International UK', country: 'GB' },
  nz: { name: 'LIFT International New Zealand', country: 'NZ' },
}

export function createInvoice(
  account: AccountState,
  input: {
    subscription: Stripe.Subscription
    customer: Stripe.Customer
    lines: InvoiceLine[]
    billingReason: 'subscription_create' | 'subscription_cycle'
    /** Stripe's invoice period is the *previous* period (equal to `created` on the first invoice). */
    period: { start: number; end: number }
    at: number
  },
): Stripe.Invoice {
  const id = newId('in')
  const total = input.lines.reduce((sum, line) => sum + line.amount, 0)
  const { subscription, customer } = input
  const sequence = customer.next_invoice_sequence ?? 1
  customer.next_invoice_sequence = sequence + 1
  const issuer = accountNames[account.config.fiscalPartnerId]!
  const lines = input.lines.map(
    (line) =>
      ({
        id: newId('il'),
        object: 'line_item',
        amount: line.amount,
        currency: subscription.currency,
        description: line.description,
        discount_amounts: [],
        discountable: true,
        discounts: [],
        invoice: id,
        livemode: false,
        metadata: line.subscriptionItem ? { ...subscription.metadata } : {},
        parent: line.subscriptionItem
          ? {
              type: 'subscription_item_details',
              invoice_item_details: null,
              subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: subscription.id, subscription_item: line.subscriptionItem },
            }
          : {
              type: 'invoice_item_details',
              invoice_item_details: { invoice_item: newId('ii'), proration: false, proration_details: { credited_items: null }, subscription: subscription.id },
              subscription_item_details: null,
            },
        period: line.period,
        pretax_credit_amounts: [],
        pricing: {
          type: 'price_details',
          price_details: { price: line.price.id, product: typeof line.price.product === 'string' ? line.price.product : line.price.product.id },
          unit_amount_decimal: wireDecimal(line.price.unit_amount ?? 0),
        },
        quantity: line.quantity,
        quantity_decimal: wireDecimal(line.quantity),
        subscription: subscription.id,
        subtotal: line.amount,
        taxes: [],
      }) satisfies Stripe.InvoiceLineItem,
  )
  return store(account, {
    id,
    object: 'invoice',
    account_country: issuer.country,
    account_name: issuer.name,
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: total,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: false,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: 'charge_automatically',
    created: input.at,
    currency: subscription.currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email,
    customer_name: customer.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: input.at,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/fake/${id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/fake/${id}/pdf`,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: `${customer.invoice_prefix ?? 'FAKE'}-${String(sequence).padStart(4, '0')}`,
    on_behalf_of: null,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { ...subscription.metadata }, subscription: subscription.id } },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.period.end,
    period_start: input.period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'open',
    status_transitions: { finalized_at: input.at, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: input.at,
  } satisfies Stripe.Invoice)
}

/**
 * One attempt to collect an open invoice: an InvoicePayment and a PaymentIntent; on success a
 * Charge and Balance Transaction, the invoice paid. On failure the intent needs a new method.
 */
export function attemptInvoice(
  account: AccountState,
  invoice: Stripe.Invoice,
  input: { succeed: boolean; billing: Billing; at: number },
): { intent: Stripe.PaymentIntent; charge: Stripe.Charge | null; payment: Stripe.InvoicePayment } {
  const intent = createPaymentIntent(account, {
    amount: invoice.amount_due,
    currency: invoice.currency,
    customer: typeof invoice.customer === 'string' ? invoice.customer : null,
    // Stripe puts no metadata on an invoice's intent: the subscription's lives on the invoice.
    metadata: {},
    description: invoice.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
    status: 'requires_payment_method',
    method: 'card',
    at: input.at,
  })
  const existing = [...account.objects.values()].find(
    (o): o is Stripe.InvoicePayment => o.object === 'invoice_payment' && o.invoice === invoice.id && o.status === 'open',
  )
  const payment =
    existing ??
    store(account, {
      id: newId('inpay'),
      object: 'invoice_payment',
      amount_paid: null,
      amount_requested: invoice.amount_due,
      created: input.at,
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status: 'open',
      status_transitions: { canceled_at: null, paid_at: null },
    } satisfies Stripe.InvoicePayment)
  payment.payment = { type: 'payment_intent', payment_intent: intent.id }
  invoice.attempt_count += 1
  invoice.attempted = true
  if (!input.succeed) {
    intent.last_payment_error = {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
      payment_method_type: 'card',
      doc_url: 'https://stripe.com/docs/error-codes/card-declined',
    }
    invoice.next_payment_attempt = input.at + 3 * 86_400
    return { intent, charge: null, payment }
  }
  const charge = chargeIntent(account, intent, input.billing, input.at)
  Object.assign(payment, { amount_paid: invoice.amount_due, status: 'paid', status_transitions: { canceled_at: null, paid_at: input.at } })
  Object.assign(invoice, {
    amount_paid: invoice.amount_due,
    amount_remaining: 0,
    status: 'paid',
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, paid_at: input.at },
  } satisfies Partial<Stripe.Invoice>)
  return { intent, charge, payment }
}

export function customerOf(account: AccountState, subscription: Stripe.Subscription): Stripe.Customer {
  const id = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id
  const customer = find(account, 'customer', id)
  if (!customer) throw new Error(`fake Stripe: subscription ${subscription.id} has no stored customer`)
  return customer
}

export function billingOf(customer: Stripe.Customer): Billing {
  return { email: customer.email, name: customer.name ?? null, country: customer.address?.country ?? null }
}
