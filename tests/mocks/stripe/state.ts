// The fake Stripe's memory: one store per Stripe account (the account is chosen by the API key,
// as at Stripe), ids, the clock, exchange rates, the queue of events Stripe would send, and the
// rules every endpoint shares (errors, expansion, lists). Tests, the msw handlers and the offline
// sandbox all share this one module, so the app never needs to know which Stripe it talks to.
import { randomBytes } from 'node:crypto'
import Stripe from 'stripe'
import type { FiscalPartnerId } from '#app/utils/env.server.ts'

export const fakeStripeApiVersion = '2026-10-28.endive'

export type SettlementCurrency = 'USD' | 'GBP' | 'NZD'

export interface FakeStripeAccount {
  /** The secret key that selects this account (Authorization: Bearer <key>). */
  key: string
  fiscalPartnerId: FiscalPartnerId
  settlementCurrency: SettlementCurrency
  webhookSecret: string
  /** Origin of the app that serves /sandbox/checkout/…, used for session.url. */
  sandboxBaseUrl: string
}

const settlement: Record<FiscalPartnerId, SettlementCurrency> = { us: 'USD', uk: 'GBP', nz: 'NZD' }

/** The three accounts app/utils/stripe.server.ts uses without keys (sk_test_sandbox_<id>). */
export function sandboxAccounts(sandboxBaseUrl: string): FakeStripeAccount[] {
  return (['us', 'uk', 'nz'] as const).map((fiscalPartnerId) => ({
    key: `sk_test_sandbox_${fiscalPartnerId}`,
    fiscalPartnerId,
    settlementCurrency: settlement[fiscalPartnerId],
    webhookSecret: `whsec_sandbox_${fiscalPartnerId}`,
    sandboxBaseUrl,
  }))
}

/** Every object the fake stores, by its `object` name. References between them are ids. */
export interface FakeObjects {
  'checkout.session': Stripe.Checkout.Session
  payment_intent: Stripe.PaymentIntent
  charge: Stripe.Charge
  balance_transaction: Stripe.BalanceTransaction
  refund: Stripe.Refund
  dispute: Stripe.Dispute
  customer: Stripe.Customer
  subscription: Stripe.Subscription
  invoice: Stripe.Invoice
  invoice_payment: Stripe.InvoicePayment
  payout: Stripe.Payout
  price: Stripe.Price
  product: Stripe.Product
  event: Stripe.Event
}
export type FakeObjectType = keyof FakeObjects
export type FakeObject = FakeObjects[FakeObjectType]

/** What a session was created with that Stripe keeps but does not show on the session. */
export interface SessionSetup {
  lineItems: Stripe.LineItem[]
  paymentIntentData: { metadata: Stripe.Metadata; description: string | null }
  subscriptionData: { metadata: Stripe.Metadata; description: string | null }
  customerCreation: 'always' | 'if_required' | null
}

export interface IdempotentResult {
  route: string
  fingerprint: string
  status: number
  body: unknown
}

export interface AccountState {
  config: FakeStripeAccount
  objects: Map<string, FakeObject>
  /** The same objects by type, so a list scans its own kind only, not every object ever made. */
  byType: Map<string, Map<string, FakeObject>>
  sessions: Map<string, SessionSetup>
  /** Events waiting for delivery, oldest first. */
  queue: Stripe.Event[]
  idempotency: Map<string, IdempotentResult>
  /** Balance transaction id → the automatic payout that paid it out. */
  paidOut: Map<string, string>
}

let accounts = new Map<string, AccountState>()
/** Creation order of every object, for lists (newest first) and event delivery. */
const sequence = new Map<string, number>()
let counter = 0
let rateOverrides = new Map<string, number>()

export function configureFakeStripe(configs: FakeStripeAccount[]): void {
  accounts = new Map(configs.map((config) => [config.key, emptyAccount(config)]))
  resetFakeStripe()
}

/** Forgets every object, event, idempotency key and rate override; keeps the accounts. */
export function resetFakeStripe(): void {
  for (const [key, account] of accounts) accounts.set(key, emptyAccount(account.config))
  sequence.clear()
  rateOverrides = new Map()
}

function emptyAccount(config: FakeStripeAccount): AccountState {
  return { config, objects: new Map(), byType: new Map(), sessions: new Map(), queue: [], idempotency: new Map(), paidOut: new Map() }
}

export function accountForKey(key: string): AccountState | undefined {
  return accounts.get(key)
}

export function accountFor(fiscalPartnerId: FiscalPartnerId): AccountState {
  for (const account of accounts.values()) if (account.config.fiscalPartnerId === fiscalPartnerId) return account
  throw new Error(`The fake Stripe has no account for fiscal partner '${fiscalPartnerId}' (configureFakeStripe)`)
}

export function allAccounts(): AccountState[] {
  return [...accounts.values()]
}

// ---------------------------------------------------------------------------------------------
// Objects

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length)
  let out = ''
  for (const byte of bytes) out += alphabet[byte % alphabet.length]
  return `${prefix}_${out}`
}

/** Unix seconds, as Stripe counts time. */
export function unix(at?: Date | number): number {
  if (typeof at === 'number') return at
  return Math.floor((at ?? new Date()).getTime() / 1000)
}

/** On the wire a decimal is a string; stripe-node turns it into a Stripe.Decimal when it parses. */
export function wireDecimal(value: number | string): Stripe.Decimal {
  return String(value) as unknown as Stripe.Decimal
}

export function store<T extends FakeObject>(account: AccountState, object: T): T {
  if (!sequence.has(object.id)) sequence.set(object.id, ++counter)
  account.objects.set(object.id, object)
  let ofType = account.byType.get(object.object)
  if (!ofType) account.byType.set(object.object, (ofType = new Map()))
  ofType.set(object.id, object)
  return object
}

/** A stored object of one type, or undefined (also when it belongs to another account). */
export function find<K extends FakeObjectType>(account: AccountState, type: K, id: string): FakeObjects[K] | undefined {
  const found = account.objects.get(id)
  return found && found.object === type ? (found as FakeObjects[K]) : undefined
}

/** Like Stripe: an unknown id (or one from another account) is a 404 resource_missing. */
export function mustFind<K extends FakeObjectType>(account: AccountState, type: K, id: string): FakeObjects[K] {
  const found = find(account, type, id)
  if (!found) {
    throw new StripeApiError(404, `No such ${type}: '${id}'`, { code: 'resource_missing', param: 'id' })
  }
  return found
}

/** The account and object for an id, whichever account holds it (simulations take bare ids). */
export function locate<K extends FakeObjectType>(type: K, id: string): { account: AccountState; object: FakeObjects[K] } {
  for (const account of accounts.values()) {
    const object = find(account, type, id)
    if (object) return { account, object }
  }
  throw new StripeApiError(404, `No such ${type}: '${id}'`, { code: 'resource_missing', param: 'id' })
}

/** For assertions: a copy of any stored object, or undefined. */
export function getFakeObject<T extends FakeObject = FakeObject>(id: string): T | undefined {
  for (const account of accounts.values()) {
    const found = account.objects.get(id)
    if (found) return structuredClone(found) as T
  }
  return undefined
}

export function allObjects<K extends FakeObjectType>(account: AccountState, type: K): FakeObjects[K][] {
  return [...(account.byType.get(type)?.values() ?? [])] as FakeObjects[K][]
}

export function createdOrder(id: string): number {
  return sequence.get(id) ?? 0
}

// ---------------------------------------------------------------------------------------------
// Money: fixed fake exchange rates, a tests-only "current rate" override, fees

const baseRates: Record<string, number> = {
  'gbp>usd': 1.27,
  'nzd>usd': 0.59,
  'usd>gbp': 0.787,
  'nzd>gbp': 0.465,
  'usd>nzd': 1.695,
  'gbp>nzd': 2.15,
}

/** Changes the rate used from now on (later refunds and disputes), so FX gains/losses can be tested. */
export function setFakeExchangeRate(from: string, to: string, rate: number): void {
  rateOverrides.set(`${from.toLowerCase()}>${to.toLowerCase()}`, rate)
}

/** Stripe's current conversion rate, or null when no conversion happens. */
export function currentRate(from: string, to: string): number | null {
  const pair = `${from.toLowerCase()}>${to.toLowerCase()}`
  if (from.toLowerCase() === to.toLowerCase()) return null
  const rate = rateOverrides.get(pair) ?? baseRates[pair]
  if (rate === undefined) throw new StripeApiError(400, `The fake Stripe has no exchange rate for ${pair}`, { param: 'currency' })
  return rate
}

/** An amount in the account's settlement currency, converted at the current rate. */
export function toSettlement(account: AccountState, amount: number, currency: string) {
  const settlementCurrency = account.config.settlementCurrency.toLowerCase()
  const rate = currentRate(currency, settlementCurrency)
  return { amount: rate === null ? amount : Math.round(amount * rate), currency: settlementCurrency, exchange_rate: rate }
}

/** 2.9% + 30 (minor units of the settlement currency), plus 1% when the charge was converted. */
export function processingFee(settledAmount: number, converted: boolean): number {
  return Math.round((settledAmount * (converted ? 390 : 290)) / 10_000) + 30
}

export const disputeFees: Record<SettlementCurrency, number> = { USD: 1500, GBP: 2000, NZD: 2500 }

// ---------------------------------------------------------------------------------------------
// Events

export type EventOf<T extends Stripe.Event['type']> = Extract<Stripe.Event, { type: T }>

/** Records the event Stripe would send now, with a snapshot of the object as it is. */
export function queueEvent<T extends Stripe.Event['type']>(
  account: AccountState,
  type: T,
  object: EventOf<T>['data']['object'],
  options: { previous?: Record<string, unknown>; at?: number } = {},
): EventOf<T> {
  const event = {
    id: newId('evt'),
    object: 'event',
    api_version: fakeStripeApiVersion,
    created: options.at ?? unix(),
    data: { object: structuredClone(object), ...(options.previous ? { previous_attributes: options.previous } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as unknown as EventOf<T>
  store(account, event)
  account.queue.push(event)
  return structuredClone(event)
}

/** Drains the events waiting for delivery (one account, or all), oldest first. */
export function takeEvents(fiscalPartnerId?: FiscalPartnerId): Stripe.Event[] {
  const taken: Stripe.Event[] = []
  for (const account of accounts.values()) {
    if (fiscalPartnerId && account.config.fiscalPartnerId !== fiscalPartnerId) continue
    taken.push(...account.queue.splice(0))
  }
  return taken.sort((a, b) => createdOrder(a.id) - createdOrder(b.id)).map((event) => structuredClone(event))
}

/** A webhook request body and headers signed with the account's secret, as Stripe sends them. */
export function signedWebhook(
  event: Stripe.Event,
  fiscalPartnerId: FiscalPartnerId,
  options: { timestamp?: number; secret?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(event, null, 2)
  const secret = options.secret ?? accountFor(fiscalPartnerId).config.webhookSecret
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: options.timestamp })
  return {
    body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
  }
}

// ---------------------------------------------------------------------------------------------
// Errors shaped like Stripe's

export type StripeErrorType = 'invalid_request_error' | 'idempotency_error' | 'card_error' | 'api_error'

export class StripeApiError extends Error {
  override name = 'StripeApiError'
  constructor(
    readonly status: number,
    message: string,
    readonly details: { type?: StripeErrorType; code?: string; param?: string } = {},
  ) {
    super(message)
  }

  toJSON() {
    const { type = 'invalid_request_error', code, param } = this.details
    return {
      error: {
        type,
        message: this.message,
        ...(code ? { code, doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}` } : {}),
        ...(param ? { param } : {}),
      },
    }
  }
}

export function invalid(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, message, { param, code })
}
