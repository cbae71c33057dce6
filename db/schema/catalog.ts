// The things admins set up: fiscal partners, designations, match partners, campaigns and their pledges.
import { sql } from 'drizzle-orm'
import {
  boolean,
  check,
  date,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { at, createdAt, minor } from './columns.ts'

/** A legal entity that charges, settles, receipts and reconciles gifts (LIFT US, UK, NZ). */
export const fiscalPartners = pgTable(
  'fiscal_partners',
  {
    /** 'us' | 'uk' | 'nz': also the webhook path segment and the suffix of its Stripe env vars. */
    id: text('id').primaryKey(),
    legalName: text('legal_name').notNull(),
    displayName: text('display_name').notNull(),
    /** ISO 3166-1 alpha-2 country of the entity. */
    country: text('country').notNull(),
    /** The currency its Stripe account settles in. */
    currency: text('currency').notNull(),
    /** e.g. { ein: '…' } or { charityNumber: '…', hmrcReference: '…' }. */
    registrationNumbers: jsonb('registration_numbers').$type<Record<string, string>>().notNull(),
    receiptPrefix: text('receipt_prefix').notNull().unique(),
    /** The entity that takes gifts from countries without a partner of their own. */
    isHome: boolean('is_home').notNull().default(false),
    /** Who bears card fees: the gift's designation, or unrestricted funds. */
    feePolicy: text('fee_policy', { enum: ['designation', 'unrestricted'] })
      .notNull()
      .default('designation'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('fiscal_partners_one_home').on(t.isHome).where(sql`${t.isHome}`),
    check('fiscal_partners_fee_policy', sql`${t.feePolicy} in ('designation', 'unrestricted')`),
    check('fiscal_partners_currency', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
)

/** The card fee a partner estimates per charge currency, used to gross up "cover the fee". */
export const fiscalPartnerFees = pgTable(
  'fiscal_partner_fees',
  {
    fiscalPartnerId: text('fiscal_partner_id')
      .notNull()
      .references(() => fiscalPartners.id),
    currency: text('currency').notNull(),
    /** Percentage in basis points: 290 = 2.9 %. */
    percentBps: integer('percent_bps').notNull(),
    fixedMinor: integer('fixed_minor').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.fiscalPartnerId, t.currency] }),
    check('fiscal_partner_fees_range', sql`${t.percentBps} between 0 and 2000 and ${t.fixedMinor} >= 0`),
  ],
)

/** What a gift funds: love-packs, survivor-fund, caregiver-training or unrestricted. */
export const designations = pgTable(
  'designations',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    restricted: boolean('restricted').notNull(),
    sortOrder: integer('sort_order').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [check('designations_slug', sql`${t.id} ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`)],
)

/** An organisation that pledges match funding, e.g. One Day's Wages. */
export const partnerOrganisations = pgTable('partner_organisations', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  websiteUrl: text('website_url'),
  createdAt: createdAt(),
})

export const campaignStatuses = ['draft', 'live', 'closed'] as const

export const campaigns = pgTable(
  'campaigns',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    slug: text('slug').notNull().unique(),
    title: text('title').notNull(),
    summary: text('summary').notNull(),
    storyMarkdown: text('story_markdown').notNull(),
    currency: text('currency').notNull(),
    /** What donors are asked to give; the goal shown is this plus every pledge's cap. */
    donorTargetMinor: minor('donor_target_minor').notNull(),
    startsAt: at('starts_at').notNull(),
    endsAt: at('ends_at').notNull(),
    status: text('status', { enum: campaignStatuses }).notNull().default('draft'),
    defaultDesignationId: text('default_designation_id')
      .notNull()
      .references(() => designations.id),
    createdAt: createdAt(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('campaigns_slug', sql`${t.slug} ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`),
    check('campaigns_status', sql`${t.status} in ('draft', 'live', 'closed')`),
    check('campaigns_target', sql`${t.donorTargetMinor} >= 0`),
    check('campaigns_window', sql`${t.endsAt} > ${t.startsAt}`),
    check('campaigns_currency', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
)

export const leftoverPolicies = ['return', 'donate'] as const

/**
 * A partner's promise to match gifts to one campaign. matched + reserved never exceeds the cap:
 * the CHECK below is the last line of defence behind the matching engine's row lock.
 */
export const matchPledges = pgTable(
  'match_pledges',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    campaignId: integer('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    partnerOrganisationId: integer('partner_organisation_id')
      .notNull()
      .references(() => partnerOrganisations.id),
    /** The entity on whose books the receivable from the partner sits. */
    fiscalPartnerId: text('fiscal_partner_id')
      .notNull()
      .references(() => fiscalPartners.id),
    /** Always the campaign's currency. */
    currency: text('currency').notNull(),
    capMinor: minor('cap_minor').notNull(),
    /** Match = gift × ratioNum / ratioDen: 1/1 is dollar for dollar, 2/1 doubles, 1/2 halves. */
    ratioNum: integer('ratio_num').notNull().default(1),
    ratioDen: integer('ratio_den').notNull().default(1),
    /** Lower first: a gift's unmatched part flows to the next pledge in this order. */
    priority: integer('priority').notNull(),
    startsAt: at('starts_at').notNull(),
    endsAt: at('ends_at').notNull(),
    perGiftMaxMinor: minor('per_gift_max_minor'),
    perDonorMaxMinor: minor('per_donor_max_minor'),
    /** null: every designation is covered. */
    designationIds: text('designation_ids').array(),
    /** For monthly gifts, only the first N payments are matched; null: all of them. */
    matchedInstallments: integer('matched_installments'),
    /** A challenge pledge pays nothing until gifts reach this sum or this many donors. */
    unlockMinRaisedMinor: minor('unlock_min_raised_minor'),
    unlockMinDonors: integer('unlock_min_donors'),
    unlockedAt: at('unlocked_at'),
    leftoverPolicy: text('leftover_policy', { enum: leftoverPolicies }).notNull().default('return'),
    closedAt: at('closed_at'),
    leftoverMinor: minor('leftover_minor'),
    matchedMinor: minor('matched_minor').notNull().default(0),
    reservedMinor: minor('reserved_minor').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('match_pledges_campaign_priority').on(t.campaignId, t.priority),
    check('match_pledges_cap', sql`${t.capMinor} > 0`),
    check('match_pledges_ratio', sql`${t.ratioNum} > 0 and ${t.ratioDen} > 0`),
    check('match_pledges_window', sql`${t.endsAt} > ${t.startsAt}`),
    check(
      'match_pledges_within_cap',
      sql`${t.matchedMinor} >= 0 and ${t.reservedMinor} >= 0 and ${t.matchedMinor} + ${t.reservedMinor} <= ${t.capMinor}`,
    ),
    check('match_pledges_leftover_policy', sql`${t.leftoverPolicy} in ('return', 'donate')`),
    check(
      'match_pledges_limits',
      sql`coalesce(${t.perGiftMaxMinor}, 1) > 0 and coalesce(${t.perDonorMaxMinor}, 1) > 0 and coalesce(${t.matchedInstallments}, 1) > 0`,
    ),
  ],
)

/** Dated exchange rates finance maintains, for gifts that Stripe did not convert. */
export const fxRates = pgTable(
  'fx_rates',
  {
    base: text('base').notNull(),
    quote: text('quote').notNull(),
    effectiveOn: date('effective_on', { mode: 'string' }).notNull(),
    /** 1 unit of base = rate units of quote. */
    rate: numeric('rate', { precision: 18, scale: 8 }).notNull(),
    source: text('source').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.base, t.quote, t.effectiveOn] }),
    check('fx_rates_positive', sql`${t.rate} > 0`),
  ],
)
