// Operational tables: Stripe events and payouts, abuse controls, the email outbox.
import { sql } from 'drizzle-orm'
import { boolean, check, index, integer, json, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { fiscalPartners } from './catalog.ts'
import { at, createdAt, minor } from './columns.ts'

/** Every verified Stripe event, stored on receipt and marked processed in the transaction that applies it. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  fiscalPartnerId: text('fiscal_partner_id')
    .notNull()
    .references(() => fiscalPartners.id),
  type: text('type').notNull(),
  apiVersion: text('api_version'),
  livemode: boolean('livemode').notNull(),
  stripeCreatedAt: at('stripe_created_at').notNull(),
  receivedAt: at('received_at').notNull().defaultNow(),
  // json, not jsonb: the exact text Stripe signed, kept as it came (migration 0010).
  payload: json('payload').notNull(),
  // The inbox: due until processed; a claim pushes next_attempt_at out by a lease, a failure by a backoff.
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
  processedAt: at('processed_at'),
  outcome: text('outcome', { enum: ['applied', 'ignored'] }),
  lastError: text('last_error'),
}, (t) => [index('stripe_events_due').on(t.nextAttemptAt, t.stripeCreatedAt).where(sql`processed_at is null`)])

export const payouts = pgTable('payouts', {
  /** Stripe's po_… id. */
  id: text('id').primaryKey(),
  fiscalPartnerId: text('fiscal_partner_id')
    .notNull()
    .references(() => fiscalPartners.id),
  amountMinor: minor('amount_minor').notNull(),
  currency: text('currency').notNull(),
  status: text('status').notNull(),
  arrivalDate: at('arrival_date'),
  balanceTransactionId: text('balance_transaction_id'),
  failureBalanceTransactionId: text('failure_balance_transaction_id'),
  failureCode: text('failure_code'),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull().defaultNow(),
})

/** Fixed-window counters for rate limits (card-testing defence). */
export const rateLimitHits = pgTable(
  'rate_limit_hits',
  {
    key: text('key').notNull(),
    windowStart: at('window_start').notNull(),
    hits: integer('hits').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
)

/** Why a request was turned away, for finance and abuse review. */
export const refusedRequests = pgTable(
  'refused_requests',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    reason: text('reason').notNull(),
    route: text('route').notNull(),
    ip: text('ip'),
    email: text('email'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [index('refused_requests_created').on(t.createdAt)],
)

/** Transactional outbox: rows written with the change that causes them, sent by a worker. */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** At most one email per cause, e.g. "thanks:<donation id>". */
    dedupeKey: text('dedupe_key').notNull().unique(),
    template: text('template').notNull(),
    toAddress: text('to_address').notNull(),
    props: jsonb('props').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['queued', 'sent', 'failed'] }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    sendAfter: at('send_after').notNull().defaultNow(),
    subject: text('subject'),
    html: text('html'),
    text: text('text'),
    /** 'resend', or 'outbox' for mail kept in the dev outbox (no RESEND_API_KEY, never in production). */
    transport: text('transport', { enum: ['resend', 'outbox'] }),
    providerMessageId: text('provider_message_id'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    sentAt: at('sent_at'),
  },
  (t) => [
    index('email_outbox_due').on(t.sendAfter).where(sql`${t.status} = 'queued'`),
    check('email_outbox_status', sql`${t.status} in ('queued', 'sent', 'failed')`),
    // A sent row always says when and how; nothing else carries a send time.
    check('email_outbox_sent', sql`(${t.status} = 'sent') = (${t.sentAt} is not null and ${t.transport} is not null)`),
    check('email_outbox_transport', sql`${t.transport} in ('resend', 'outbox')`),
    check('email_outbox_attempts', sql`${t.attempts} >= 0`),
  ],
)
