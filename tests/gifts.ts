// Test helpers that drive a gift through its life (reserve, settle, refund, dispute) with
// Stripe-shaped facts, and read back what finance would look at: entries, totals, pledges.
import { and, eq, sql } from 'drizzle-orm'
import { expect } from 'vitest'
import { recordDispute, recordRefund, settleDonation } from '#app/models/gift-events.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import type { BalanceFacts } from '#app/models/ledger.server.ts'
import { reserveMatch } from '#app/models/matching.server.ts'
import { db } from '#app/utils/db.server.ts'
import type { Executor } from '#db/client.ts'
import { matchPledges } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { ledgerEntries } from '#db/schema/ledger.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { campaignTotals, matches } from '#db/schema/matching.ts'
import { chargeBalance, nextBalanceId } from './factories.ts'

type Db = { transaction: Executor['transaction'] }

export const minutes = (n: number) => n * 60_000
export const inMinutes = (n: number, from = new Date()) => new Date(from.getTime() + minutes(n))

export function reserve(donationId: string, options: { holdMinutes?: number; now?: Date } = {}, exec: Db = db) {
  const now = options.now ?? new Date()
  return exec.transaction((tx) => reserveMatch(tx, { donationId, expiresAt: inMinutes(options.holdMinutes ?? 30, now), now }))
}

export function settle(
  donationId: string,
  amountMinor: number,
  options: { currency?: string; exchangeRate?: string | null; feeMinor?: number; settledAt?: Date; balanceId?: string } = {},
  exec: Db = db,
) {
  const balance = { ...chargeBalance(amountMinor, options), ...(options.balanceId ? { id: options.balanceId } : {}) }
  return exec.transaction((tx) =>
    settleDonation(tx, donationId, { chargeId: `ch_${balance.id}`, balance, settledAt: options.settledAt ?? new Date() }),
  )
}

/** A refund of `amountMinor` (charge currency) that Stripe settled as `settledMinor` (settlement currency). */
export function refundFacts(
  id: string,
  amountMinor: number,
  options: { currency?: string; settledMinor?: number; settlementCurrency?: string; balanceId?: string; failureBalanceId?: string; at?: Date } = {},
) {
  const settled = options.settledMinor ?? amountMinor
  const settlementCurrency = options.settlementCurrency ?? options.currency ?? 'USD'
  return {
    id,
    amountMinor,
    currency: options.currency ?? 'USD',
    status: options.failureBalanceId ? 'failed' : 'succeeded',
    reason: 'requested_by_customer',
    balance: { id: options.balanceId ?? `txn_refund_${id}`, amountMinor: -settled, feeMinor: 0, netMinor: -settled, currency: settlementCurrency },
    failureBalance: options.failureBalanceId
      ? { id: options.failureBalanceId, amountMinor: settled, feeMinor: 0, netMinor: settled, currency: settlementCurrency }
      : null,
    at: options.at ?? new Date(),
  }
}

export function refund(donationId: string, facts: ReturnType<typeof refundFacts>, exec: Db = db) {
  return exec.transaction((tx) => recordRefund(tx, donationId, facts))
}

export function withdrawal(amountMinor: number, options: { feeMinor?: number; currency?: string; id?: string } = {}) {
  const fee = options.feeMinor ?? 1_500
  return { id: options.id ?? nextBalanceId(), amountMinor: -amountMinor, feeMinor: fee, netMinor: -amountMinor - fee, currency: options.currency ?? 'USD' }
}

export function reinstatement(amountMinor: number, options: { currency?: string; id?: string; at?: Date } = {}) {
  return { id: options.id ?? nextBalanceId(), amountMinor, feeMinor: 0, netMinor: amountMinor, currency: options.currency ?? 'USD', at: options.at }
}

export function dispute(
  donationId: string,
  facts: { id: string; amountMinor: number; status: string; balances: BalanceFacts[]; currency?: string; at?: Date },
  exec: Db = db,
) {
  return exec.transaction((tx) =>
    recordDispute(tx, donationId, { currency: 'USD', reason: 'fraudulent', at: new Date(), ...facts }),
  )
}

export async function totalsOf(campaignId: number, exec: Executor = db) {
  const [row] = await exec.select().from(campaignTotals).where(eq(campaignTotals.campaignId, campaignId))
  return row!
}

export async function pledgeOf(pledgeId: number, exec: Executor = db) {
  const [row] = await exec.select().from(matchPledges).where(eq(matchPledges.id, pledgeId))
  return row!
}

export async function donationOf(donationId: string, exec: Executor = db) {
  const [row] = await exec.select().from(donations).where(eq(donations.id, donationId))
  return row!
}

/** Net match a gift holds, per pledge id and in total. */
export async function matchOf(donationId: string, pledgeId?: number, exec: Executor = db): Promise<number> {
  const { rows } = await exec.execute<{ total: number }>(sql`
    select coalesce(sum(amount_minor), 0)::int8 as total from ${matches}
    where donation_id = ${donationId} ${pledgeId === undefined ? sql`` : sql`and pledge_id = ${pledgeId}`}`)
  return rows[0]!.total
}

export async function entryBy(kind: string, sourceKey: string, exec: Executor = db) {
  const [row] = await exec
    .select()
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.kind, kind as never), eq(ledgerEntries.sourceKey, sourceKey)))
  return row
}

/** An entry's postings as { account path: amount }. */
export async function postingsOf(entryId: number, exec: Executor = db): Promise<Record<string, number>> {
  const { rows } = await exec.execute<{ path: string; amount: number }>(sql`
    select a.path, p.amount_minor as amount from ledger_postings p join ledger_accounts a on a.id = p.account_id
    where p.entry_id = ${entryId} order by a.path`)
  return Object.fromEntries(rows.map((r) => [r.path, r.amount]))
}

export async function entriesOf(donationId: string, exec: Executor = db) {
  return exec.select().from(ledgerEntries).where(eq(ledgerEntries.donationId, donationId)).orderBy(ledgerEntries.id)
}

/** ledger:check finds no error (warnings, like suspense, are allowed unless `strict`). */
export async function expectLedgerClean(exec: Executor = db, { strict = false } = {}) {
  const findings = await checkLedger(exec)
  expect(strict ? findings : findings.filter((f) => f.severity === 'error')).toEqual([])
}

/** The outbox's emails by template, in the order they were queued. */
export async function outboxTemplates(exec: Executor = db): Promise<string[]> {
  return (await exec.select({ template: emailOutbox.template }).from(emailOutbox).orderBy(emailOutbox.id)).map((row) => row.template)
}
