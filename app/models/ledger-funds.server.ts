// Spending from a fund and moving money between funds (ledger.md §4.5): restricted money never
// goes negative this way. Each move checks the fund's balance under a lock on that fund, like
// TigerBeetle's debits_must_not_exceed_credits, then posts one balanced entry.
import { and, eq, sql } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'
import { ledgerEntries, type LedgerEntryKind } from '#db/schema/ledger.ts'
import { accounts, LedgerError, postEntry } from './ledger.server.ts'

/** Serialises spending from one fund for the rest of the transaction. */
async function lockFund(tx: Executor, fiscalPartnerId: string, currency: string, designationId: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`fund:${fiscalPartnerId}:${currency}:${designationId}`}))`)
}

/** The balance of a fund (credits positive); the caller holds the fund's lock. */
async function fundBalance(tx: Executor, fiscalPartnerId: string, currency: string, designationId: string) {
  const { rows } = await tx.execute<{ balance: number }>(sql`
    select coalesce(-sum(p.amount_minor), 0)::int8 as balance
    from ledger_postings p join ledger_accounts a on a.id = p.account_id
    where a.fiscal_partner_id = ${fiscalPartnerId} and a.currency = ${currency}
      and a.path like ${`funds:${designationId}:%`}`)
  return rows[0]!.balance
}

export class InsufficientFundsError extends LedgerError {
  override name = 'InsufficientFundsError'
}

async function assertFundCovers(
  tx: Executor,
  scope: { fiscalPartnerId: string; currency: string; designationId: string; kind: LedgerEntryKind; key: string },
  amountMinor: number,
) {
  // Lock first, then look for the entry: a retry that waited on the lock while the first attempt
  // committed must see that entry (and be answered as a replay), not be judged on what is left.
  await lockFund(tx, scope.fiscalPartnerId, scope.currency, scope.designationId)
  const [posted] = await tx
    .select({ id: ledgerEntries.id })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.kind, scope.kind), eq(ledgerEntries.sourceKey, scope.key)))
  if (posted) return
  const balance = await fundBalance(tx, scope.fiscalPartnerId, scope.currency, scope.designationId)
  if (balance < amountMinor) {
    throw new InsufficientFundsError(
      `${scope.designationId} holds ${balance} ${scope.currency} minor units at ${scope.fiscalPartnerId}; cannot move ${amountMinor}`,
    )
  }
}

/** Finance moves money between designations, with a reason; the source fund may not go negative. */
export async function postRedesignation(
  tx: Executor,
  move: { key: string; fiscalPartnerId: string; currency: string; fromDesignationId: string; toDesignationId: string; amountMinor: number; effectiveAt: Date; createdBy: string; reason: string },
) {
  if (move.amountMinor <= 0) throw new LedgerError('a re-designation must move a positive amount')
  if (move.fromDesignationId === move.toDesignationId) throw new LedgerError('a re-designation needs two different designations')
  await assertFundCovers(tx, { ...move, kind: 'redesignation', designationId: move.fromDesignationId }, move.amountMinor)
  return postEntry(tx, {
    kind: 'redesignation',
    sourceKey: move.key,
    fiscalPartnerId: move.fiscalPartnerId,
    currency: move.currency,
    effectiveAt: move.effectiveAt,
    createdBy: move.createdBy,
    reason: move.reason,
    postings: [
      { account: accounts.fund(move.fromDesignationId, 'transfers'), amountMinor: move.amountMinor },
      { account: accounts.fund(move.toDesignationId, 'transfers'), amountMinor: -move.amountMinor },
    ],
  })
}

/** Money spent on the programme ("120 Love Packs delivered"); the fund may not go negative. */
export async function postRelease(
  tx: Executor,
  release: { key: string; fiscalPartnerId: string; currency: string; designationId: string; amountMinor: number; effectiveAt: Date; createdBy: string; reason: string },
) {
  if (release.amountMinor <= 0) throw new LedgerError('a release must spend a positive amount')
  await assertFundCovers(tx, { ...release, kind: 'release' }, release.amountMinor)
  return postEntry(tx, {
    kind: 'release',
    sourceKey: release.key,
    fiscalPartnerId: release.fiscalPartnerId,
    currency: release.currency,
    effectiveAt: release.effectiveAt,
    createdBy: release.createdBy,
    reason: release.reason,
    postings: [
      { account: accounts.fund(release.designationId, 'released'), amountMinor: release.amountMinor },
      { account: accounts.bank, amountMinor: -release.amountMinor },
    ],
  })
}
