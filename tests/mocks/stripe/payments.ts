// Builders for the money objects: PaymentIntents, Charges, Balance Transactions, Refunds,
// Disputes and Payouts, each `satisfies` the SDK's type for API 2026-10-28.endive so
// every field the app reads exists with Stripe's type (null where Stripe sends null).
import type Stripe from 'stripe'
import { disputeFees, newId, processingFee, store, toSettlement, type AccountState } from './state.ts'

export interface Billing {
  email: string | null
  name: string | null
  country: string | null
}

const statementDescriptor = 'LIFT INTERNATIONAL'

export function createBalanceTransaction(
  account: AccountState,
  input: {
    amount: number
    exchangeRate: number | null
    fee?: number
    feeDescription?: string
    type: Stripe.BalanceTransaction.Type
    reportingCategory: string
    source: string
    description: string | null
    at: number
  },
): Stripe.BalanceTransaction {
  const currency = account.config.settlementCurrency.toLowerCase()
  const fee = input.fee ?? 0
  return store(account, {
    id: newId('txn'),
    object: 'balance_transaction',
    amount: input.amount,
    available_on: input.at + 2 * 86_400,
    balance_type: 'payments',
    created: input.at,
    currency,
    description: input.description,
    exchange_rate: input.exchangeRate,
    fee,
    fee_details: fee ? [{ amount: fee, application: null, currency, description: input.feeDescription ?? 'Stripe processing fees', type: 'stripe_fee' }] : [],
    net: input.amount - fee,
    reporting_category: input.reportingCategory,
    source: input.source,
    status: 'available',
    type: input.type,
  } satisfies Stripe.BalanceTransaction)
}

export function createPaymentIntent(
  account: AccountState,
  input: {
    amount: number
    currency: string
    customer: string | null
    metadata: Stripe.Metadata
    description: string | null
    status: Stripe.PaymentIntent.Status
    method: 'card' | 'bank_debit'
    at: number
  },
): Stripe.PaymentIntent {
  const id = newId('pi')
  return store(account, {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${newId('s').slice(2)}`,
    confirmation_method: 'automatic',
    created: input.at,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: newId('pm'),
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: [input.method === 'card' ? 'card' : bankDebitType(account)],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: input.status,
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.PaymentIntent)
}

/** The bank debit a donor of this account would use (ACH, BACS, NZ direct debit). */
function bankDebitType(account: AccountState): string {
  return { us: 'us_bank_account', uk: 'bacs_debit', nz: 'nz_bank_account' }[account.config.fiscalPartnerId]
}

/** Captures a PaymentIntent: a succeeded Charge with its Balance Transaction (fee, FX). */
export function chargeIntent(account: AccountState, intent: Stripe.PaymentIntent, billing: Billing, at: number): Stripe.Charge {
  const id = newId('ch')
  const settled = toSettlement(account, intent.amount, intent.currency)
  const balance = createBalanceTransaction(account, {
    amount: settled.amount,
    exchangeRate: settled.exchange_rate,
    fee: processingFee(settled.amount, settled.exchange_rate !== null),
    type: 'charge',
    reportingCategory: 'charge',
    source: id,
    description: intent.description,
    at,
  })
  const card = intent.payment_method_types[0] === 'card'
  const charge = store(account, {
    id,
    object: 'charge',
    amount: intent.amount,
    amount_captured: intent.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: balance.id,
    billing_details: {
      address: { city: null, country: billing.country, line1: null, line2: null, postal_code: null, state: null },
      email: billing.email,
      name: billing.name,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: statementDescriptor,
    captured: true,
    created: at,
    currency: intent.currency,
    customer: typeof intent.customer === 'string' ? intent.customer : null,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: { ...intent.metadata },
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      risk_score: 32,
      seller_message: 'Payment complete.',
      type: 'authorized',
    },
    paid: true,
    payment_intent: intent.id,
    payment_method: typeof intent.payment_method === 'string' ? intent.payment_method : null,
    payment_method_details: card ? { type: 'card', card: testCard(intent.amount, billing.country) } : { type: intent.payment_method_types[0]! },
    receipt_email: null,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${newId('CAcQARoX', 40)}`,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.Charge)
  Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: charge.id } satisfies Partial<Stripe.PaymentIntent>)
  return charge
}

function testCard(amount: number, country: string | null): Stripe.Charge.PaymentMethodDetails.Card {
  return {
    amount_authorized: amount,
    authorization_code: String(100000 + (amount % 899999)),
    brand: 'visa',
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
    country: country ?? 'US',
    exp_month: 12,
    exp_year: new Date().getUTCFullYear() + 3,
    extended_authorization: { status: 'disabled' },
    fingerprint: 'fakeStripeVisa4242',
    funding: 'credit',
    incremental_authorization: { status: 'unavailable' },
    installments: null,
    last4: '4242',
    mandate: null,
    multicapture: { status: 'unavailable' },
    network: 'visa',
    network_token: { used: false },
    network_transaction_id: String(Date.now()),
    overcapture: { maximum_amount_capturable: amount, status: 'unavailable' },
    regulated_status: 'unregulated',
    three_d_secure: null,
    transaction_link_id: null,
    wallet: null,
    electronic_commerce_indicator: null,
  }
}

export function createRefund(
  account: AccountState,
  charge: Stripe.Charge,
  input: { amount: number; status: 'succeeded' | 'pending'; reason: Stripe.Refund.Reason | null; metadata: Stripe.Metadata; at: number },
): Stripe.Refund {
  const id = newId('re')
  // A converted payment is refunded at today's rate, so the settled amount may differ (stripe.md §1.7).
  const settled = toSettlement(account, input.amount, charge.currency)
  const balance = createBalanceTransaction(account, {
    amount: -settled.amount,
    exchangeRate: settled.exchange_rate,
    type: 'refund',
    reportingCategory: 'refund',
    source: id,
    description: `REFUND FOR CHARGE (${charge.description ?? charge.id})`,
    at: input.at,
  })
  return store(account, {
    id,
    object: 'refund',
    amount: input.amount,
    balance_transaction: balance.id,
    charge: charge.id,
    created: input.at,
    currency: charge.currency,
    customer: typeof charge.customer === 'string' ? charge.customer : null,
    customer_account: null,
    metadata: input.metadata,
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
    payment_method: charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: input.status,
    transfer_reversal: null,
  } satisfies Stripe.Refund)
}

export function createDispute(
  account: AccountState,
  charge: Stripe.Charge,
  input: { amount: number; reason: string; at: number },
): Stripe.Dispute {
  const id = newId('dp')
  const settled = toSettlement(account, input.amount, charge.currency)
  const withdrawal = createBalanceTransaction(account, {
    amount: -settled.amount,
    exchangeRate: settled.exchange_rate,
    fee: disputeFee(account),
    feeDescription: 'Dispute fee',
    type: 'adjustment',
    reportingCategory: 'dispute',
    source: id,
    description: `Chargeback withdrawal for ${charge.id}`,
    at: input.at,
  })
  return store(account, {
    id,
    object: 'dispute',
    amount: input.amount,
    balance_transactions: [withdrawal],
    charge: charge.id,
    created: input.at,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: {
      access_activity_log: null,
      billing_address: null,
      cancellation_policy: null,
      cancellation_policy_disclosure: null,
      cancellation_rebuttal: null,
      customer_communication: null,
      customer_email_address: charge.billing_details.email,
      customer_name: charge.billing_details.name,
      customer_purchase_ip: null,
      customer_signature: null,
      duplicate_charge_documentation: null,
      duplicate_charge_explanation: null,
      duplicate_charge_id: null,
      enhanced_evidence: {},
      product_description: null,
      receipt: null,
      refund_policy: null,
      refund_policy_disclosure: null,
      refund_refusal_explanation: null,
      service_date: null,
      service_documentation: null,
      shipping_address: null,
      shipping_carrier: null,
      shipping_date: null,
      shipping_documentation: null,
      shipping_tracking_number: null,
      uncategorized_file: null,
      uncategorized_text: null,
    },
    evidence_details: { due_by: input.at + 21 * 86_400, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: 'not_submitted' },
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
    reason: input.reason,
    status: 'needs_response',
  } satisfies Stripe.Dispute)
}

function disputeFee(account: AccountState): number {
  return disputeFees[account.config.settlementCurrency]
}

export function createPayoutObject(
  account: AccountState,
  input: { amount: number; status: 'paid' | 'failed'; at: number },
): Stripe.Payout {
  const id = newId('po')
  const balance = createBalanceTransaction(account, {
    amount: -input.amount,
    exchangeRate: null,
    type: 'payout',
    reportingCategory: 'payout',
    source: id,
    description: 'STRIPE PAYOUT',
    at: input.at,
  })
  const failed = input.status === 'failed'
  const failure = failed
    ? createBalanceTransaction(account, {
        amount: input.amount,
        exchangeRate: null,
        type: 'payout_failure',
        reportingCategory: 'payout_reversal',
        source: id,
        description: 'Payout failure',
        at: input.at,
      })
    : null
  return store(account, {
    id,
    object: 'payout',
    amount: input.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: input.at + 86_400,
    automatic: true,
    balance_transaction: balance.id,
    created: input.at,
    currency: account.config.settlementCurrency.toLowerCase(),
    description: 'STRIPE PAYOUT',
    destination: `ba_${account.config.fiscalPartnerId}_fake_bank_account`,
    failure_balance_transaction: failure?.id ?? null,
    failure_code: failed ? 'account_closed' : null,
    failure_message: failed ? 'The bank account has been closed.' : null,
    livemode: false,
    metadata: {},
    method: 'standard',
    original_payout: null,
    payout_method: null,
    reconciliation_status: failed ? 'not_applicable' : 'completed',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: input.status,
    trace_id: { status: failed ? 'unsupported' : 'supported', value: failed ? null : newId('TRACE', 12) },
    type: 'bank_account',
  } satisfies Stripe.Payout)
}
