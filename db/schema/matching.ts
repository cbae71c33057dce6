// Match reservations, matches and the campaign totals kept in step with the ledger.
import { sql } from 'drizzle-orm'
import { bigint, check, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { campaigns, matchPledges } from './catalog.ts'
import { at, createdAt, minor } from './columns.ts'
import { donations, donors } from './giving.ts'

/** A pending transfer against a pledge's cap, taken when a checkout is created. */
export const matchReservations = pgTable(
  'match_reservations',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    pledgeId: integer('pledge_id')
      .notNull()
      .references(() => matchPledges.id),
    donationId: uuid('donation_id')
      .notNull()
      .references(() => donations.id),
    donorId: integer('donor_id')
      .notNull()
      .references(() => donors.id),
    amountMinor: minor('amount_minor').notNull(),
    /** The part of the gift's value this reservation covers. */
    portionMinor: minor('portion_minor').notNull(),
    status: text('status', { enum: ['held', 'converted', 'released', 'expired'] }).notNull().default('held'),
    expiresAt: at('expires_at').notNull(),
    createdAt: createdAt(),
    resolvedAt: at('resolved_at'),
  },
  (t) => [
    uniqueIndex('match_reservations_pledge_donation').on(t.pledgeId, t.donationId),
    index('match_reservations_held').on(t.pledgeId, t.expiresAt).where(sql`${t.status} = 'held'`),
    check('match_reservations_positive', sql`${t.amountMinor} > 0 and ${t.portionMinor} > 0`),
  ],
)

/**
 * Every change to a gift's match is its own append-only row: earned (+), reversed (−) or a
 * pledge's leftover donated at close (+, no gift). Each has its own ledger entry.
 */
export const matches = pgTable(
  'matches',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    pledgeId: integer('pledge_id')
      .notNull()
      .references(() => matchPledges.id),
    donationId: uuid('donation_id').references(() => donations.id),
    donorId: integer('donor_id').references(() => donors.id),
    kind: text('kind', { enum: ['earned', 'reversed', 'leftover'] }).notNull(),
    amountMinor: minor('amount_minor').notNull(),
    portionMinor: minor('portion_minor').notNull(),
    /** Idempotency: what caused this row (e.g. "settle:<donation>", "refund:<re_…>"). */
    sourceKey: text('source_key').notNull(),
    /** Why, in words, for explainMatch. */
    note: text('note').notNull(),
    ledgerEntryId: bigint('ledger_entry_id', { mode: 'number' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('matches_source').on(t.pledgeId, t.sourceKey),
    index('matches_donation').on(t.donationId),
    check(
      'matches_sign',
      sql`(${t.kind} = 'reversed' and ${t.amountMinor} < 0 and ${t.portionMinor} <= 0)
          or (${t.kind} <> 'reversed' and ${t.amountMinor} > 0 and ${t.portionMinor} >= 0)`,
    ),
    check('matches_donation', sql`(${t.kind} = 'leftover') = (${t.donationId} is null)`),
  ],
)

/** Per-donor counters for pledges with a per-donor maximum. */
export const matchPledgeDonors = pgTable(
  'match_pledge_donors',
  {
    pledgeId: integer('pledge_id')
      .notNull()
      .references(() => matchPledges.id),
    donorId: integer('donor_id')
      .notNull()
      .references(() => donors.id),
    matchedMinor: minor('matched_minor').notNull().default(0),
    reservedMinor: minor('reserved_minor').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.pledgeId, t.donorId] }),
    check('match_pledge_donors_positive', sql`${t.matchedMinor} >= 0 and ${t.reservedMinor} >= 0`),
  ],
)

/**
 * The one row a campaign page reads. Updated in the same transaction as the postings it
 * summarises; `ledger:check` recomputes it from scratch.
 */
export const campaignTotals = pgTable(
  'campaign_totals',
  {
    campaignId: integer('campaign_id')
      .primaryKey()
      .references(() => campaigns.id),
    /** Settled gifts in campaign currency, after refunds and disputes, without donor-covered fees. */
    raisedGiftsMinor: minor('raised_gifts_minor').notNull().default(0),
    /** Match earned, net of reversals, across all pledges. */
    matchedMinor: minor('matched_minor').notNull().default(0),
    /** Donors whose gifts still count for something. */
    donorsCount: integer('donors_count').notNull().default(0),
    giftsCount: integer('gifts_count').notNull().default(0),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check(
      'campaign_totals_positive',
      sql`${t.raisedGiftsMinor} >= 0 and ${t.matchedMinor} >= 0 and ${t.donorsCount} >= 0 and ${t.giftsCount} >= 0`,
    ),
  ],
)

/** What each donor currently counts for in a campaign, so the donor count moves incrementally. */
export const campaignDonors = pgTable(
  'campaign_donors',
  {
    campaignId: integer('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    donorId: integer('donor_id')
      .notNull()
      .references(() => donors.id),
    countedMinor: minor('counted_minor').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.donorId] }),
    check('campaign_donors_positive', sql`${t.countedMinor} >= 0`),
  ],
)
