// The allocation ledger's write side (shared/ledger.md §2). Every movement of money is one
// balanced, append-only entry keyed by what caused it, so posting the same thing twice is a no-op.
// The database enforces balance, immutability and uniqueness; this module builds the postings.
import { and, eq, sql } from 'drizzle-orm'
import { ledgerEntries, ledgerPostings, type LedgerEntryKind } from '#db/schema/ledger.ts'
import type { Executor } from '#db/client.ts'
import { runPrepared, type Statement } from './prepared.server.ts'

export type Posting = {
  account: string
  amountMinor: number
}

export interface EntryInput {
  kind: LedgerEntryKind
  /** Idempotency: the Stripe balance transaction, payout, or our own row this entry records. */
  sourceKey: string
  fiscalPartnerId: string
  currency: string
  effectiveAt: Date
  postings: Posting[]
  campaignId?: number | null
  donationId?: string | null
  campaignValueMinor?: number | null
  reversesEntryId?: number | null
  createdBy?: string
  reason?: string | null
  metadata?: Record<string, unknown> | null
}

export interface PostedEntry {
  id: number
  /** false when an entry with this kind and source key already existed (a replay). */
  created: boolean
}

export class LedgerError extends Error {
  override name = 'LedgerError'
}

/** Chart-of-accounts paths (ledger.md §1). */
export const accounts = {
  stripe: 'assets:stripe',
  bank: 'assets:bank',
  suspense: 'suspense',
  giftAidReceivable: 'assets:receivable:gift-aid',
  matchReceivable: (partnerSlug: string) => `assets:receivable:match:${partnerSlug}`,
  fund: (designation: string, part: FundPart) => `funds:${designation}:${part}`,
  fx: 'funds:unrestricted:fx',
  unrestrictedFees: 'funds:unrestricted:fees',
}

export type FundPart = 'gifts' | 'match' | 'gift-aid' | 'fees' | 'refunds' | 'disputes' | 'transfers' | 'released' | 'fx'

/** Adds postings to the same account together and drops the ones that come to zero. */
export function normalisePostings(postings: Posting[]): Posting[] {
  const byAccount = new Map<string, number>()
  for (const { account, amountMinor } of postings) {
    if (!Number.isSafeInteger(amountMinor)) throw new LedgerError(`posting to ${account} is not an integer amount: ${amountMinor}`)
    byAccount.set(account, (byAccount.get(account) ?? 0) + amountMinor)
  }
  return [...byAccount].filter(([, amount]) => amount !== 0).map(([account, amountMinor]) => ({ account, amountMinor }))
}

function checkedPostings(input: EntryInput): Posting[] {
  const postings = normalisePostings(input.postings)
  const total = postings.reduce((sum, p) => sum + p.amountMinor, 0)
  if (postings.length === 0) throw new LedgerError(`${input.kind} ${input.sourceKey} has no postings`)
  if (total !== 0) throw new LedgerError(`${input.kind} ${input.sourceKey} does not balance: postings sum to ${total}`)
  return postings
}

/**
 * The CTEs that write entries and their postings (accounts created on first use) from $1, a JSON
 * array made by entriesParam. `entries` returns each new entry; an entry whose (kind, source key)
 * was already posted is skipped. Callers add CTEs that refer to `entries` (match rows) and run the
 * whole statement as one prepared statement.
 */
export const entriesCtes = `
  entries_in as materialized (
    select * from jsonb_to_recordset($1::jsonb) as e(
      fiscal_partner_id text, currency text, kind text, source_key text, effective_at timestamptz, reverses_entry_id int8,
      campaign_id int, donation_id uuid, campaign_value_minor int8, created_by text, reason text, metadata jsonb, postings jsonb)
  ), entries as (
    insert into ledger_entries
      (fiscal_partner_id, currency, kind, source_key, effective_at, reverses_entry_id, campaign_id,
       donation_id, campaign_value_minor, created_by, reason, metadata)
    select fiscal_partner_id, currency, kind, source_key, effective_at, reverses_entry_id, campaign_id,
           donation_id, campaign_value_minor, created_by, reason, metadata
    from entries_in
    on conflict (kind, source_key) do nothing
    returning id, kind, source_key, fiscal_partner_id, currency, effective_at
  ), entry_postings as (
    insert into ledger_postings (entry_id, fiscal_partner_id, currency, effective_at, account_id, amount_minor)
    select e.id, e.fiscal_partner_id, e.currency, e.effective_at,
           ledger_account_id(e.fiscal_partner_id, e.currency, p.account), p."amountMinor"
    from entries e join entries_in i on i.kind = e.kind and i.source_key = e.source_key,
      jsonb_to_recordset(i.postings) as p(account text, "amountMinor" int8)
    returning 1
  )`

/** The $1 of entriesCtes: entries checked to balance, their postings merged per account. */
export function entriesParam(inputs: EntryInput[]): string {
  return JSON.stringify(
    inputs.map((input) => ({
      fiscal_partner_id: input.fiscalPartnerId,
      currency: input.currency,
      kind: input.kind,
      source_key: input.sourceKey,
      effective_at: input.effectiveAt.toISOString(),
      reverses_entry_id: input.reversesEntryId ?? null,
      campaign_id: input.campaignId ?? null,
      donation_id: input.donationId ?? null,
      campaign_value_minor: input.campaignValueMinor ?? null,
      created_by: input.createdBy ?? 'system',
      reason: input.reason ?? null,
      metadata: input.metadata ?? null,
      postings: checkedPostings(input),
    })),
  )
}

const postEntryStatement: Statement = { name: 'lift_post_entry_v1', text: `with ${entriesCtes} select id from entries` }

/**
 * Posts one entry in a single statement (entry, accounts created on first use, postings). A replay
 * with the same kind and source key returns the existing entry, after checking it says the same.
 */
export async function postEntry(tx: Executor, input: EntryInput): Promise<PostedEntry> {
  const [created] = await runPrepared<{ id: number }>(tx, postEntryStatement, [entriesParam([input])])
  if (created) return { id: created.id, created: true }
  return { id: await checkReplay(tx, input, normalisePostings(input.postings)), created: false }
}

async function checkReplay(tx: Executor, input: EntryInput, postings: Posting[]): Promise<number> {
  const [existing] = await tx
    .select({ id: ledgerEntries.id, fiscalPartnerId: ledgerEntries.fiscalPartnerId, currency: ledgerEntries.currency })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.kind, input.kind), eq(ledgerEntries.sourceKey, input.sourceKey)))
  if (!existing) throw new LedgerError(`${input.kind} ${input.sourceKey} was neither posted nor found`)
  const { rows } = await tx.execute<{ account: string; amountMinor: number }>(sql`
    select a.path as account, p.amount_minor as "amountMinor"
    from ${ledgerPostings} p join ledger_accounts a on a.id = p.account_id
    where p.entry_id = ${existing.id}`)
  const key = (list: Posting[]) => list.map((p) => `${p.account}=${p.amountMinor}`).sort().join(',')
  if (existing.fiscalPartnerId !== input.fiscalPartnerId || existing.currency !== input.currency || key(rows) !== key(postings)) {
    // Like an idempotency key reused with other parameters: a bug upstream, never silently merged.
    throw new LedgerError(`${input.kind} ${input.sourceKey} was already posted with different postings`)
  }
  return existing.id
}

/** A correction: the exact opposite of an earlier entry, pointing at it. */
export async function postReversal(
  tx: Executor,
  { entryId, kind = 'correction', sourceKey, effectiveAt, createdBy, reason }: {
    entryId: number
    kind?: LedgerEntryKind
    sourceKey?: string
    effectiveAt: Date
    createdBy: string
    reason: string
  },
): Promise<PostedEntry> {
  const [original] = await tx.select().from(ledgerEntries).where(eq(ledgerEntries.id, entryId))
  if (!original) throw new LedgerError(`entry ${entryId} does not exist`)
  if (original.campaignValueMinor !== null || original.kind.startsWith('match') && original.kind !== 'match_payment') {
    // Campaign totals, pledges and match rows move with these entries; a bare opposite entry would
    // leave them behind. Gifts are undone by refunds and disputes, matches by the matching engine.
    throw new LedgerError(`entry ${entryId} (${original.kind}) counts toward a campaign: undo it through its gift's refund or the matching engine`)
  }
  const { rows } = await tx.execute<Posting>(sql`
    select a.path as account, p.amount_minor as "amountMinor"
    from ledger_postings p join ledger_accounts a on a.id = p.account_id where p.entry_id = ${entryId}`)
  return postEntry(tx, {
    kind,
    sourceKey: sourceKey ?? `reverses:${entryId}`,
    fiscalPartnerId: original.fiscalPartnerId,
    currency: original.currency,
    effectiveAt,
    postings: rows.map((p) => ({ account: p.account, amountMinor: -p.amountMinor })),
    campaignId: original.campaignId,
    donationId: original.donationId,
    campaignValueMinor: original.campaignValueMinor === null ? null : -original.campaignValueMinor,
    reversesEntryId: entryId,
    createdBy,
    reason,
  })
}

// ---------------------------------------------------------------------------------------------
// One function per event of ledger.md §2. Stripe-driven entries post what the balance transaction
// says (settlement currency), keyed by its id; our own events are keyed by our own ids.

/** A Stripe balance transaction, in its (settlement) currency. */
export interface BalanceFacts {
  id: string
  amountMinor: number
  feeMinor: number
  netMinor: number
  currency: string
  /** When Stripe moved the money (the balance transaction's `created`): a correction's own date. */
  at?: Date
}

export interface GiftContext {
  fiscalPartnerId: string
  designationId: string
  /** Who bears card fees (the partner's fee policy). */
  feeDesignationId: string
  campaignId: number
  donationId: string
}

export type GiftEntry = GiftContext & { balance: BalanceFacts; campaignValueMinor: number; effectiveAt: Date; metadata?: Record<string, unknown> }

/** A gift settles: the net reaches Stripe, the fee is borne by the fund, the gross is the gift. */
export function postGift(tx: Executor, gift: GiftEntry) {
  return postEntry(tx, giftEntry(gift))
}

export function giftEntry(gift: GiftEntry): EntryInput {
  const { balance } = gift
  return {
    kind: 'gift',
    sourceKey: balance.id,
    fiscalPartnerId: gift.fiscalPartnerId,
    currency: balance.currency,
    effectiveAt: gift.effectiveAt,
    campaignId: gift.campaignId,
    donationId: gift.donationId,
    campaignValueMinor: gift.campaignValueMinor,
    metadata: gift.metadata,
    postings: [
      { account: accounts.stripe, amountMinor: balance.netMinor },
      { account: accounts.fund(gift.feeDesignationId, 'fees'), amountMinor: balance.feeMinor },
      { account: accounts.fund(gift.designationId, 'gifts'), amountMinor: -balance.amountMinor },
    ],
  }
}

/**
 * Money leaving (or returning) because of a refund, a refund's failure, or a dispute's withdrawal
 * or reinstatement. The fund moves by the gift's recorded rate; Stripe's balance by what it
 * actually settled; the difference is realised exchange. A fee returned with a refund goes back
 * to the fund that bore the gift's fee; a dispute fee is unrestricted's.
 */
export function postChargeAdjustment(
  tx: Executor,
  adjustment: GiftContext & {
    kind: Extract<LedgerEntryKind, 'refund' | 'refund_failure' | 'dispute_withdrawal' | 'dispute_reinstatement'>
    balance: BalanceFacts
    /** The same movement valued at the gift's own rate: positive when money leaves the fund. */
    atGiftRateMinor: number
    campaignValueMinor: number
    effectiveAt: Date
    reversesEntryId?: number | null
    metadata?: Record<string, unknown>
  },
) {
  const { balance } = adjustment
  const part: FundPart = adjustment.kind.startsWith('refund') ? 'refunds' : 'disputes'
  return postEntry(tx, {
    kind: adjustment.kind,
    sourceKey: balance.id,
    fiscalPartnerId: adjustment.fiscalPartnerId,
    currency: balance.currency,
    effectiveAt: adjustment.effectiveAt,
    campaignId: adjustment.campaignId,
    donationId: adjustment.donationId,
    campaignValueMinor: adjustment.campaignValueMinor,
    reversesEntryId: adjustment.reversesEntryId,
    metadata: adjustment.metadata,
    postings: [
      { account: accounts.fund(adjustment.designationId, part), amountMinor: adjustment.atGiftRateMinor },
      // A fee Stripe returns with a refund goes back to whoever bore the gift's fee, so restricted
      // money never becomes unrestricted; a dispute's fee is a new cost, unrestricted's.
      { account: part === 'refunds' ? accounts.fund(adjustment.feeDesignationId, 'fees') : accounts.unrestrictedFees, amountMinor: balance.feeMinor },
      { account: accounts.stripe, amountMinor: balance.netMinor },
      // amount = net + fee, so this is what is left to balance: the exchange difference.
      { account: accounts.fx, amountMinor: -(adjustment.atGiftRateMinor + balance.amountMinor) },
    ],
  })
}

export interface MatchContext {
  fiscalPartnerId: string
  currency: string
  partnerSlug: string
  designationId: string
  campaignId: number
  donationId: string | null
}

/**
 * Match earned (positive) or reversed (negative): owed by the partner, credited to the fund.
 * Keyed by the match row's own key, which is unique per pledge.
 */
export type MatchEntry = MatchContext & {
  kind: Extract<LedgerEntryKind, 'match' | 'match_reversal' | 'match_leftover'>
  pledgeId: number
  matchKey: string
  amountMinor: number
  effectiveAt: Date
}

export function postMatch(tx: Executor, match: MatchEntry) {
  return postEntry(tx, matchEntry(match))
}

export function matchEntry(match: MatchEntry): EntryInput {
  return {
    kind: match.kind,
    sourceKey: `match:${match.pledgeId}:${match.matchKey}`,
    fiscalPartnerId: match.fiscalPartnerId,
    currency: match.currency,
    effectiveAt: match.effectiveAt,
    campaignId: match.campaignId,
    donationId: match.donationId,
    postings: [
      { account: accounts.matchReceivable(match.partnerSlug), amountMinor: match.amountMinor },
      { account: accounts.fund(match.designationId, 'match'), amountMinor: -match.amountMinor },
    ],
  }
}

/** A match partner pays what it owes into the fiscal partner's bank. */
export function postMatchPayment(
  tx: Executor,
  payment: { key: string; fiscalPartnerId: string; currency: string; partnerSlug: string; amountMinor: number; effectiveAt: Date; createdBy: string; reason?: string },
) {
  if (payment.amountMinor <= 0) throw new LedgerError('a match payment must be positive')
  return postEntry(tx, {
    kind: 'match_payment',
    sourceKey: payment.key,
    fiscalPartnerId: payment.fiscalPartnerId,
    currency: payment.currency,
    effectiveAt: payment.effectiveAt,
    createdBy: payment.createdBy,
    reason: payment.reason,
    postings: [
      { account: accounts.bank, amountMinor: payment.amountMinor },
      { account: accounts.matchReceivable(payment.partnerSlug), amountMinor: -payment.amountMinor },
    ],
  })
}

/** Stripe pays out to the bank (paid), or the bank sends it back (failed). */
export function postPayout(
  tx: Executor,
  payout: { kind: 'payout' | 'payout_failure'; balanceTransactionId: string; payoutId: string; fiscalPartnerId: string; currency: string; amountMinor: number; effectiveAt: Date },
) {
  const toBank = payout.kind === 'payout' ? payout.amountMinor : -payout.amountMinor
  return postEntry(tx, {
    kind: payout.kind,
    sourceKey: payout.balanceTransactionId,
    fiscalPartnerId: payout.fiscalPartnerId,
    currency: payout.currency,
    effectiveAt: payout.effectiveAt,
    metadata: { payoutId: payout.payoutId },
    postings: [
      { account: accounts.bank, amountMinor: toBank },
      { account: accounts.stripe, amountMinor: -toBank },
    ],
  })
}

/**
 * Any other balance transaction (Stripe's own fees, adjustments): borne by unrestricted when we
 * know what it is, parked in suspense for finance when we do not. Never dropped.
 */
export function postStripeOther(
  tx: Executor,
  other: { balance: BalanceFacts; fiscalPartnerId: string; known: boolean; effectiveAt: Date; description: string },
) {
  return postEntry(tx, {
    kind: 'stripe_other',
    sourceKey: other.balance.id,
    fiscalPartnerId: other.fiscalPartnerId,
    currency: other.balance.currency,
    effectiveAt: other.effectiveAt,
    reason: other.description,
    postings: [
      { account: accounts.stripe, amountMinor: other.balance.netMinor },
      { account: other.known ? accounts.unrestrictedFees : accounts.suspense, amountMinor: -other.balance.netMinor },
    ],
  })
}
