// The double-entry allocation ledger (shared/ledger.md). Append-only: triggers in the
// migrations reject UPDATE, DELETE and TRUNCATE, and a deferred trigger rejects any entry
// whose postings do not sum to zero.
import { sql } from 'drizzle-orm'
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { campaigns, fiscalPartners } from './catalog.ts'
import { at, minor } from './columns.ts'
import { donations } from './giving.ts'

export const ledgerEntryKinds = [
  'gift',
  'refund',
  'refund_failure',
  'dispute_withdrawal',
  'dispute_reinstatement',
  'payout',
  'payout_failure',
  'stripe_other',
  'match',
  'match_reversal',
  'match_leftover',
  'match_payment',
  'redesignation',
  'release',
  'gift_aid_claim',
  'gift_aid_receipt',
  'correction',
] as const
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number]

/** A chart of accounts per fiscal partner and currency; paths like "funds:love-packs:gifts". */
export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    fiscalPartnerId: text('fiscal_partner_id')
      .notNull()
      .references(() => fiscalPartners.id),
    currency: text('currency').notNull(),
    path: text('path').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    unique('ledger_accounts_path').on(t.fiscalPartnerId, t.currency, t.path),
    unique('ledger_accounts_scope').on(t.id, t.fiscalPartnerId, t.currency),
    check('ledger_accounts_path_shape', sql`${t.path} ~ '^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)*$'`),
    check('ledger_accounts_currency', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
)

/** One fiscal partner, one currency, postings that sum to zero; keyed by what caused it. */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    fiscalPartnerId: text('fiscal_partner_id')
      .notNull()
      .references(() => fiscalPartners.id),
    currency: text('currency').notNull(),
    kind: text('kind', { enum: ledgerEntryKinds }).notNull(),
    /** The Stripe balance transaction, payout, or our own row id this entry records. */
    sourceKey: text('source_key').notNull(),
    effectiveAt: at('effective_at').notNull(),
    recordedAt: at('recorded_at').notNull().defaultNow(),
    reversesEntryId: bigint('reverses_entry_id', { mode: 'number' }),
    campaignId: integer('campaign_id').references(() => campaigns.id),
    donationId: uuid('donation_id').references(() => donations.id),
    /**
     * What this entry adds to its campaign's "raised" figure, in the campaign's currency at the
     * gift's recorded rate (gifts, refunds, disputes). Lets totals be recomputed from the ledger
     * when a gift settles in another currency than its campaign's.
     */
    campaignValueMinor: minor('campaign_value_minor'),
    createdBy: text('created_by').notNull().default('system'),
    reason: text('reason'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    /**
     * The top-level transaction that posted the entry: its postings can be written only by that
     * transaction (migration 0009), so a committed entry's postings never change.
     */
    postedInXact: bigint('posted_in_xact', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text::bigint)`),
  },
  (t) => [
    unique('ledger_entries_source').on(t.kind, t.sourceKey),
    unique('ledger_entries_scope').on(t.id, t.fiscalPartnerId, t.currency, t.effectiveAt),
    foreignKey({ name: 'ledger_entries_reverses', columns: [t.reversesEntryId], foreignColumns: [t.id] }),
    index('ledger_entries_campaign').on(t.campaignId, t.effectiveAt),
    index('ledger_entries_donation').on(t.donationId),
    check('ledger_entries_kind', sql`${t.kind} in (${sql.raw(ledgerEntryKinds.map((k) => `'${k}'`).join(', '))})`),
  ],
)

export const ledgerPostings = pgTable(
  'ledger_postings',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    entryId: bigint('entry_id', { mode: 'number' }).notNull(),
    accountId: bigint('account_id', { mode: 'number' }).notNull(),
    // Copied from the entry (and held to it by the foreign keys) so balances as of a date
    // are read from one index without a join.
    fiscalPartnerId: text('fiscal_partner_id').notNull(),
    currency: text('currency').notNull(),
    effectiveAt: at('effective_at').notNull(),
    /** Debit positive, credit negative. */
    amountMinor: minor('amount_minor').notNull(),
  },
  (t) => [
    foreignKey({
      name: 'ledger_postings_entry',
      columns: [t.entryId, t.fiscalPartnerId, t.currency, t.effectiveAt],
      foreignColumns: [ledgerEntries.id, ledgerEntries.fiscalPartnerId, ledgerEntries.currency, ledgerEntries.effectiveAt],
    }),
    foreignKey({
      name: 'ledger_postings_account',
      columns: [t.accountId, t.fiscalPartnerId, t.currency],
      foreignColumns: [ledgerAccounts.id, ledgerAccounts.fiscalPartnerId, ledgerAccounts.currency],
    }),
    index('ledger_postings_entry').on(t.entryId),
    check('ledger_postings_nonzero', sql`${t.amountMinor} <> 0`),
  ],
)
