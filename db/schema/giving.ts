// Donors and their gifts, with what Stripe later tells us about each charge.
import { sql } from 'drizzle-orm'
import {
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { campaigns, designations, fiscalPartners } from './catalog.ts'
import { at, createdAt, minor } from './columns.ts'

export const donors = pgTable(
  'donors',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** Stored lower-cased; one donor per address. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    country: text('country').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('donors_email').on(t.email),
    check('donors_email_lower', sql`${t.email} = lower(${t.email})`),
  ],
)

export const recurringPlanStatuses = ['pending', 'active', 'past_due', 'canceled', 'abandoned'] as const

/** A monthly giving commitment; each paid invoice becomes its own donation. */
export const recurringPlans = pgTable(
  'recurring_plans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    campaignId: integer('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    donorId: integer('donor_id')
      .notNull()
      .references(() => donors.id),
    fiscalPartnerId: text('fiscal_partner_id')
      .notNull()
      .references(() => fiscalPartners.id),
    designationId: text('designation_id')
      .notNull()
      .references(() => designations.id),
    amountMinor: minor('amount_minor').notNull(),
    feeCoveredMinor: minor('fee_covered_minor').notNull().default(0),
    chargedMinor: minor('charged_minor').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: recurringPlanStatuses }).notNull().default('pending'),
    stripeSubscriptionId: text('stripe_subscription_id').unique(),
    stripeCustomerId: text('stripe_customer_id'),
    /** When we last copied the subscription's state from Stripe; older snapshots never overwrite newer. */
    stripeSyncedAt: at('stripe_synced_at'),
    failedPaymentCount: integer('failed_payment_count').notNull().default(0),
    lastPaymentError: text('last_payment_error'),
    canceledAt: at('canceled_at'),
    createdAt: createdAt(),
  },
  (t) => [check('recurring_plans_charged', sql`${t.chargedMinor} = ${t.amountMinor} + ${t.feeCoveredMinor}`)],
)

export const donationStatuses = [
  'pending', // checkout created, not paid
  'processing', // paid with a delayed method; money not yet confirmed
  'succeeded',
  'failed',
  'expired',
  'canceled',
] as const

export const donations = pgTable(
  'donations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    campaignId: integer('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    donorId: integer('donor_id')
      .notNull()
      .references(() => donors.id),
    fiscalPartnerId: text('fiscal_partner_id')
      .notNull()
      .references(() => fiscalPartners.id),
    designationId: text('designation_id')
      .notNull()
      .references(() => designations.id),
    frequency: text('frequency', { enum: ['one_off', 'monthly'] }).notNull(),
    recurringPlanId: uuid('recurring_plan_id').references(() => recurringPlans.id),
    /** 1 for a one-off gift and the first monthly payment, then 2, 3 … */
    installment: integer('installment').notNull().default(1),
    status: text('status', { enum: donationStatuses }).notNull().default('pending'),

    // What the donor chose and was charged, in the charge currency.
    amountMinor: minor('amount_minor').notNull(),
    feeCoveredMinor: minor('fee_covered_minor').notNull().default(0),
    chargedMinor: minor('charged_minor').notNull(),
    currency: text('currency').notNull(),

    // The gift's value toward its campaign (campaign currency, donor-covered fee excluded),
    // at the rate recorded for this gift and never recomputed once settled.
    campaignAmountMinor: minor('campaign_amount_minor').notNull(),
    campaignFxRate: numeric('campaign_fx_rate', { precision: 18, scale: 8 }).notNull().default('1'),
    campaignFxSource: text('campaign_fx_source', { enum: ['identity', 'stripe', 'table'] })
      .notNull()
      .default('identity'),
    /** What this gift currently adds to "raised" (after refunds and open or lost disputes). */
    countedMinor: minor('counted_minor').notNull().default(0),
    /** Eligible value left unmatched because caps ran out; retrospective matching draws on it. */
    matchShortfallMinor: minor('match_shortfall_minor').notNull().default(0),
    refundedMinor: minor('refunded_minor').notNull().default(0),
    /** Withdrawn by disputes and not reinstated (charge currency). */
    disputedMinor: minor('disputed_minor').notNull().default(0),
    /** Part of disputedMinor lost for good; this part reverses the match. */
    lostDisputeMinor: minor('lost_dispute_minor').notNull().default(0),

    tributeType: text('tribute_type', { enum: ['honour', 'memory'] }),
    tributeName: text('tribute_name'),
    anonymous: boolean('anonymous').notNull().default(false),
    /** The name given with this gift: what its pages, emails and receipt show. */
    donorName: text('donor_name').notNull(),
    donorCountry: text('donor_country').notNull(),

    /**
     * SHA-256 (hex) of the secret the donor's browser holds in a cookie: only that browser gets the
     * donor's own answers back on a resumed form (app/utils/resume-cookie.server.ts).
     */
    resumeTokenHash: text('resume_token_hash'),

    // Stripe
    checkoutSessionId: text('checkout_session_id').unique(),
    checkoutUrl: text('checkout_url'),
    checkoutExpiresAt: at('checkout_expires_at'),
    paymentIntentId: text('payment_intent_id').unique(),
    chargeId: text('charge_id').unique(),
    invoiceId: text('invoice_id').unique(),
    failureReason: text('failure_reason'),

    // Settlement, from the charge's balance transaction.
    balanceTransactionId: text('balance_transaction_id').unique(),
    settledAmountMinor: minor('settled_amount_minor'),
    settledFeeMinor: minor('settled_fee_minor'),
    settledNetMinor: minor('settled_net_minor'),
    settlementCurrency: text('settlement_currency'),
    /** Stripe's charge→settlement rate; null when no conversion happened. */
    exchangeRate: numeric('exchange_rate', { precision: 18, scale: 8 }),

    createdAt: createdAt(),
    settledAt: at('settled_at'),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('donations_charged', sql`${t.chargedMinor} = ${t.amountMinor} + ${t.feeCoveredMinor}`),
    check('donations_amounts', sql`${t.amountMinor} > 0 and ${t.feeCoveredMinor} >= 0 and ${t.campaignAmountMinor} >= 0`),
    // Refunds and disputes are bounded by the charge each on its own, not together: a cardholder
    // can dispute the whole charge after part or all of it was refunded, and the issuer takes it
    // all back until the dispute is decided. What still counts is clamped at zero when computed.
    check(
      'donations_removed',
      sql`${t.refundedMinor} between 0 and ${t.chargedMinor} and ${t.disputedMinor} between 0 and ${t.chargedMinor}
          and ${t.lostDisputeMinor} between 0 and ${t.disputedMinor}`,
    ),
    check('donations_counters', sql`${t.countedMinor} >= 0 and ${t.matchShortfallMinor} >= 0`),
    check('donations_tribute', sql`(${t.tributeType} is null) = (${t.tributeName} is null)`),
    check('donations_installment', sql`${t.installment} >= 1 and (${t.recurringPlanId} is not null or ${t.installment} = 1)`),
    uniqueIndex('donations_plan_installment').on(t.recurringPlanId, t.installment),
    index('donations_campaign_settled').on(t.campaignId, t.settledAt),
    index('donations_shortfall').on(t.campaignId, t.settledAt).where(sql`${t.matchShortfallMinor} > 0`),
    index('donations_donor').on(t.donorId),
  ],
)

/** A UK donor's Gift Aid declaration, stored exactly as given. Claims come later. */
export const giftAidDeclarations = pgTable('gift_aid_declarations', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  donationId: uuid('donation_id')
    .notNull()
    .unique()
    .references(() => donations.id),
  donorId: integer('donor_id')
    .notNull()
    .references(() => donors.id),
  fiscalPartnerId: text('fiscal_partner_id')
    .notNull()
    .references(() => fiscalPartners.id),
  scope: text('scope', { enum: ['single', 'enduring'] }).notNull(),
  wordingVersion: text('wording_version').notNull(),
  /** The exact sentence the donor agreed to, with their amount and the charity's name filled in. */
  wordingText: text('wording_text').notNull(),
  title: text('title'),
  firstName: text('first_name').notNull(),
  lastName: text('last_name').notNull(),
  houseNameOrNumber: text('house_name_or_number').notNull(),
  addressLine: text('address_line').notNull(),
  postcode: text('postcode').notNull(),
  declaredAt: at('declared_at').notNull(),
  cancelledAt: at('cancelled_at'),
})

export const refunds = pgTable('refunds', {
  /** Stripe's re_… id. */
  id: text('id').primaryKey(),
  donationId: uuid('donation_id')
    .notNull()
    .references(() => donations.id),
  fiscalPartnerId: text('fiscal_partner_id')
    .notNull()
    .references(() => fiscalPartners.id),
  amountMinor: minor('amount_minor').notNull(),
  currency: text('currency').notNull(),
  status: text('status').notNull(),
  reason: text('reason'),
  balanceTransactionId: text('balance_transaction_id'),
  failureBalanceTransactionId: text('failure_balance_transaction_id'),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull().defaultNow(),
})

export const disputes = pgTable('disputes', {
  /** Stripe's dp_… id. */
  id: text('id').primaryKey(),
  donationId: uuid('donation_id')
    .notNull()
    .references(() => donations.id),
  fiscalPartnerId: text('fiscal_partner_id')
    .notNull()
    .references(() => fiscalPartners.id),
  amountMinor: minor('amount_minor').notNull(),
  currency: text('currency').notNull(),
  status: text('status').notNull(),
  reason: text('reason'),
  createdAt: createdAt(),
  closedAt: at('closed_at'),
  updatedAt: at('updated_at').notNull().defaultNow(),
})
