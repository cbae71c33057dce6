// POST /v1/checkout/sessions: the parameters we use, validated where Stripe validates cheaply,
// and the Checkout Session, Price, Product and line items Stripe would create for them.
import type Stripe from 'stripe'
import { hash, int, str, type Params, type ParamValue } from './api.ts'
import { invalid, newId, store, unix, wireDecimal, type AccountState, type SessionSetup } from './state.ts'

/** Top-level parameters of SessionCreateParams: anything else is "Received unknown parameter". */
export const sessionCreateParams = (
  'adaptive_pricing after_expiration allow_promotion_codes allowed_payment_method_types automatic_tax billing_address_collection branding_settings cancel_url client_reference_id consent_collection currency custom_fields custom_text customer customer_account customer_creation customer_email customer_update discounts excluded_payment_method_types expand expires_at integration_identifier invoice_creation line_items locale managed_payments metadata mode name_collection optional_items origin_context payment_intent_data payment_method_collection payment_method_configuration payment_method_data payment_method_options permissions phone_number_collection redirect_on_completion return_url saved_payment_method_options setup_intent_data shipping_address_collection shipping_options submit_type subscription_data success_url tax_id_collection ui_mode wallet_options'.split(
    ' ',
  )
)

/** Stripe's minimum charge per currency (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). */
const minimumCharge: Record<string, number> = { usd: 50, gbp: 30, nzd: 50, eur: 50, aud: 50, cad: 50 }

export function createSession(account: AccountState, params: Params): Stripe.Checkout.Session {
  const mode = str(params, 'mode')
  if (!mode) throw invalid('Missing required param: mode.', 'mode', 'parameter_missing')
  if (mode === 'setup') throw invalid('The fake Stripe (tests/mocks/stripe) does not implement setup mode.', 'mode')
  if (mode !== 'payment' && mode !== 'subscription') {
    throw invalid(`Invalid mode: must be one of payment, setup, or subscription`, 'mode', 'parameter_invalid_string')
  }
  const uiMode = str(params, 'ui_mode') ?? 'hosted'
  if (uiMode !== 'hosted') throw invalid(`The fake Stripe only implements ui_mode=hosted (got ${uiMode}).`, 'ui_mode')
  const submitType = str(params, 'submit_type') ?? null
  if (submitType !== null && !['auto', 'book', 'donate', 'pay', 'subscribe'].includes(submitType)) {
    throw invalid('Invalid submit_type: must be one of auto, book, donate, pay, or subscribe', 'submit_type')
  }

  const now = unix()
  const created = now
  const lineItems = parseLineItems(account, params.line_items, mode, created)
  const currency = lineItems[0]!.currency
  const total = lineItems.reduce((sum, item) => sum + item.amount_total, 0)
  if (mode === 'payment' && total < (minimumCharge[currency] ?? 50)) {
    throw invalid(`The Checkout Session's total amount due must add up to at least ${minimumCharge[currency] ?? 50} in the smallest unit of ${currency}.`, 'line_items')
  }

  const expiresAt = int(params, 'expires_at') ?? now + 24 * 3600
  if (expiresAt < now + 30 * 60) {
    throw invalid('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', 'expires_at')
  }
  if (expiresAt > now + 24 * 3600) {
    throw invalid('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', 'expires_at')
  }

  const email = str(params, 'customer_email') ?? null
  if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid(`Invalid email address: ${email}`, 'customer_email', 'email_invalid')
  if (str(params, 'customer')) throw invalid('The fake Stripe does not implement `customer` on Checkout Sessions: use customer_email.', 'customer')
  const reference = str(params, 'client_reference_id') ?? null
  if (reference !== null && reference.length > 200) throw invalid('client_reference_id must be at most 200 characters', 'client_reference_id')

  const intentData = hash(params, 'payment_intent_data')
  const subscriptionData = hash(params, 'subscription_data')
  if (mode === 'subscription' && intentData) {
    throw invalid('You can not pass `payment_intent_data` in `subscription` mode.', 'payment_intent_data')
  }
  if (mode === 'payment' && subscriptionData) {
    throw invalid('You can not pass `subscription_data` in `payment` mode.', 'subscription_data')
  }
  const customerCreation = str(params, 'customer_creation') ?? null
  if (customerCreation !== null && customerCreation !== 'always' && customerCreation !== 'if_required') {
    throw invalid('Invalid customer_creation: must be one of always or if_required', 'customer_creation')
  }
  if (mode === 'subscription' && customerCreation) {
    throw invalid('`customer_creation` can only be used in `payment` mode.', 'customer_creation')
  }

  const id = newId('cs_test', 58)
  const setup: SessionSetup = {
    lineItems,
    paymentIntentData: { metadata: metadata(intentData?.metadata, 'payment_intent_data[metadata]'), description: intentData ? (str(intentData, 'description') ?? null) : null },
    subscriptionData: { metadata: metadata(subscriptionData?.metadata, 'subscription_data[metadata]'), description: subscriptionData ? (str(subscriptionData, 'description') ?? null) : null },
    customerCreation: mode === 'payment' ? ((customerCreation as SessionSetup['customerCreation']) ?? 'if_required') : null,
  }
  account.sessions.set(id, setup)

  const session = {
    id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: (str(params, 'billing_address_collection') as 'auto' | 'required' | undefined) ?? null,
    cancel_url: str(params, 'cancel_url') ?? null,
    client_reference_id: reference,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_account: null,
    customer_creation: setup.customerCreation,
    customer_details: null,
    customer_email: email,
    discounts: [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation:
      mode === 'payment'
        ? {
            enabled: false,
            invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null },
          }
        : null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: metadata(params.metadata, 'metadata'),
    mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: mode === 'subscription' ? 'always' : 'if_required',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: submitType as Stripe.Checkout.Session.SubmitType | null,
    subscription: null,
    success_url: str(params, 'success_url') ?? null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: `${account.config.sandboxBaseUrl}/sandbox/checkout/${account.config.fiscalPartnerId}/${id}`,
    wallet_options: null,
  } satisfies Stripe.Checkout.Session
  return store(account, session)
}

/** Session line items as GET /v1/checkout/sessions/:id/line_items and expand[]=line_items show them. */
export function sessionLineItems(account: AccountState, sessionId: string): Stripe.LineItem[] {
  return structuredClone(account.sessions.get(sessionId)?.lineItems ?? [])
}

function parseLineItems(account: AccountState, value: ParamValue | undefined, mode: string, created: number): Stripe.LineItem[] {
  if (value === undefined || value === '') throw invalid('Missing required param: line_items.', 'line_items', 'parameter_missing')
  if (!Array.isArray(value) || value.length === 0) throw invalid('Invalid array: line_items must be a non-empty array', 'line_items')
  if (value.length > 100) throw invalid('line_items may have at most 100 items', 'line_items')
  const items = value.map((raw, index) => {
    const param = `line_items[${index}]`
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`Invalid object: ${param}`, param)
    if (raw.price !== undefined) throw invalid('The fake Stripe only implements inline price_data line items.', `${param}[price]`)
    const priceData = hash(raw, 'price_data', `${param}[price_data]`)
    if (!priceData) throw invalid(`You must specify either \`price\` or \`price_data\` in ${param}.`, `${param}[price_data]`, 'parameter_missing')
    const quantity = int(raw, 'quantity', `${param}[quantity]`)
    if (quantity === undefined) throw invalid(`Missing required param: ${param}[quantity].`, `${param}[quantity]`, 'parameter_missing')
    if (quantity < 1) throw invalid(`Invalid ${param}[quantity]: must be at least 1`, `${param}[quantity]`)
    return { item: raw, priceData, quantity, param }
  })
  const built = items.map(({ item, priceData, quantity, param }) => {
    const currency = str(priceData, 'currency', `${param}[price_data][currency]`)?.toLowerCase()
    if (!currency) throw invalid(`Missing required param: ${param}[price_data][currency].`, `${param}[price_data][currency]`, 'parameter_missing')
    if (currency !== str(items[0]!.priceData, 'currency')?.toLowerCase()) {
      throw invalid('All line items must have the same currency.', `${param}[price_data][currency]`)
    }
    const unitAmount = int(priceData, 'unit_amount', `${param}[price_data][unit_amount]`)
    if (unitAmount === undefined) throw invalid(`Missing required param: ${param}[price_data][unit_amount].`, `${param}[price_data][unit_amount]`, 'parameter_missing')
    if (unitAmount < 0) throw invalid(`Invalid ${param}[price_data][unit_amount]: must be at least 0`, `${param}[price_data][unit_amount]`)
    const productData = hash(priceData, 'product_data', `${param}[price_data][product_data]`)
    const name = productData ? str(productData, 'name', `${param}[price_data][product_data][name]`) : undefined
    if (!name) throw invalid(`Missing required param: ${param}[price_data][product_data][name].`, `${param}[price_data][product_data][name]`, 'parameter_missing')
    const recurringData = hash(priceData, 'recurring', `${param}[price_data][recurring]`)
    const interval = recurringData ? str(recurringData, 'interval') : undefined
    if (recurringData && !['day', 'week', 'month', 'year'].includes(interval ?? '')) {
      throw invalid('Invalid recurring[interval]: must be one of day, week, month, or year', `${param}[price_data][recurring][interval]`)
    }
    if (mode === 'payment' && recurringData) {
      throw invalid('You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.', `${param}[price_data][recurring]`)
    }
    const product = store(account, {
      id: newId('prod', 14),
      object: 'product',
      active: false,
      created,
      default_price: null,
      description: (productData && str(productData, 'description')) ?? null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: metadata(productData?.metadata, `${param}[price_data][product_data][metadata]`),
      name,
      package_dimensions: null,
      shippable: null,
      tax_details: null,
      type: 'service',
      updated: created,
      url: null,
    } satisfies Stripe.Product)
    const price = store(account, {
      id: newId('price'),
      object: 'price',
      active: false,
      billing_scheme: 'per_unit',
      created,
      currency,
      custom_unit_amount: null,
      livemode: false,
      lookup_key: null,
      metadata: {},
      nickname: null,
      product: product.id,
      recurring: recurringData
        ? {
            interval: interval as Stripe.Price.Recurring.Interval,
            interval_count: int(recurringData, 'interval_count') ?? 1,
            meter: null,
            trial_period_days: null,
            usage_type: 'licensed',
          }
        : null,
      tax_behavior: 'unspecified',
      tiers_mode: null,
      transform_quantity: null,
      type: recurringData ? 'recurring' : 'one_time',
      unit_amount: unitAmount,
      unit_amount_decimal: wireDecimal(unitAmount),
    } satisfies Stripe.Price)
    return {
      id: newId('li'),
      object: 'item',
      adjustable_quantity: null,
      amount_discount: 0,
      amount_subtotal: unitAmount * quantity,
      amount_tax: 0,
      amount_total: unitAmount * quantity,
      currency,
      description: name,
      metadata: metadata(item.metadata, `${param}[metadata]`),
      price,
      quantity,
    } satisfies Stripe.LineItem
  })
  if (mode === 'subscription' && !built.some((line) => line.price.recurring)) {
    throw invalid('You must provide at least one recurring price in `subscription` mode when using prices.', 'line_items')
  }
  return built
}

/** Stripe's metadata rules: ≤ 50 keys, key ≤ 40 chars, value ≤ 500 chars; '' unsets a key. */
export function metadata(value: ParamValue | undefined, param: string): Stripe.Metadata {
  if (value === undefined || value === '') return {}
  if (typeof value === 'string' || Array.isArray(value)) throw invalid(`Invalid object: ${param} must be a hash`, param)
  const entries = Object.entries(value).filter(([, v]) => v !== '')
  if (entries.length > 50) throw invalid('Metadata can have up to 50 keys.', param)
  for (const [key, v] of entries) {
    if (typeof v !== 'string') throw invalid(`Invalid ${param}[${key}]: metadata values must be strings`, `${param}[${key}]`)
    if (key.length > 40) throw invalid(`Metadata keys can have up to 40 characters: ${key}`, `${param}[${key}]`)
    if (v.length > 500) throw invalid(`Metadata values can have up to 500 characters, but you passed in a value that is ${v.length} characters.`, `${param}[${key}]`)
  }
  return Object.fromEntries(entries) as Stripe.Metadata
}
