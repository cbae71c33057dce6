// The ledger's read side: balances derived from postings, as of any moment. Each query reads the
// (account_id, effective_at) INCLUDE (amount_minor) index, never the entries.
import { sql } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'

export interface Scope {
  fiscalPartnerId?: string
  currency?: string
  /** Balances as they stood at this moment (inclusive); now when omitted. */
  asOf?: Date
}

export type AccountBalance = {
  fiscalPartnerId: string
  currency: string
  path: string
  /** Debits minus credits: assets are positive, funds negative. */
  balanceMinor: number
}

function filters(scope: Scope) {
  return sql`
    ${scope.fiscalPartnerId ? sql`and a.fiscal_partner_id = ${scope.fiscalPartnerId}` : sql``}
    ${scope.currency ? sql`and a.currency = ${scope.currency}` : sql``}
    ${scope.asOf ? sql`and p.effective_at <= ${scope.asOf}` : sql``}`
}

/** Every account under a path prefix (the prefix itself included), with its balance. */
export async function getAccountBalances(exec: Executor, prefix: string, scope: Scope = {}): Promise<AccountBalance[]> {
  const { rows } = await exec.execute<AccountBalance>(sql`
    select a.fiscal_partner_id as "fiscalPartnerId", a.currency, a.path,
           coalesce(sum(p.amount_minor), 0)::int8 as "balanceMinor"
    from ledger_accounts a
    left join ledger_postings p on p.account_id = a.id ${scope.asOf ? sql`and p.effective_at <= ${scope.asOf}` : sql``}
    where (a.path = ${prefix} or a.path like ${`${prefix}:%`} or ${prefix} = '')
      ${scope.fiscalPartnerId ? sql`and a.fiscal_partner_id = ${scope.fiscalPartnerId}` : sql``}
      ${scope.currency ? sql`and a.currency = ${scope.currency}` : sql``}
    group by a.id
    order by a.fiscal_partner_id, a.currency, a.path`)
  return rows
}

/** The summed balance of a path prefix for one fiscal partner and currency. */
export async function getBalance(
  exec: Executor,
  { prefix, fiscalPartnerId, currency, asOf }: Scope & { prefix: string; fiscalPartnerId: string; currency: string },
): Promise<number> {
  const { rows } = await exec.execute<{ balance: number }>(sql`
    select coalesce(sum(p.amount_minor), 0)::int8 as balance
    from ledger_accounts a join ledger_postings p on p.account_id = a.id
    where (a.path = ${prefix} or a.path like ${`${prefix}:%`}) ${filters({ fiscalPartnerId, currency, asOf })}`)
  return rows[0]!.balance
}

export interface DesignationBalance {
  fiscalPartnerId: string
  currency: string
  designationId: string
  /** Each sub-account as the fund sees it: credits (money in) positive. */
  parts: Record<string, number>
  /** What the fund holds: minus the sum of everything under funds:<designation>:. */
  balanceMinor: number
}

/** The designation report: one row per fund, partner and currency, its columns the sub-accounts. */
export async function getDesignationBalances(exec: Executor, scope: Scope = {}): Promise<DesignationBalance[]> {
  const rows = await getAccountBalances(exec, 'funds', scope)
  const byFund = new Map<string, DesignationBalance>()
  for (const row of rows) {
    const [, designationId = '', part = ''] = row.path.split(':')
    const key = `${row.fiscalPartnerId}|${row.currency}|${designationId}`
    const fund = byFund.get(key) ?? { fiscalPartnerId: row.fiscalPartnerId, currency: row.currency, designationId, parts: {}, balanceMinor: 0 }
    fund.parts[part] = (fund.parts[part] ?? 0) - row.balanceMinor
    fund.balanceMinor -= row.balanceMinor
    byFund.set(key, fund)
  }
  return [...byFund.values()]
}

export type PartnerReceivable = {
  fiscalPartnerId: string
  currency: string
  partnerSlug: string
  /** Match earned net of reversals. */
  earnedMinor: number
  paidMinor: number
  outstandingMinor: number
}

/** What each match partner has earned, paid and still owes. */
export async function getPartnerReceivables(exec: Executor, scope: Scope & { partnerSlug?: string } = {}): Promise<PartnerReceivable[]> {
  const prefix = scope.partnerSlug ? `assets:receivable:match:${scope.partnerSlug}` : 'assets:receivable:match'
  const { rows } = await exec.execute<PartnerReceivable>(sql`
    select a.fiscal_partner_id as "fiscalPartnerId", a.currency, split_part(a.path, ':', 4) as "partnerSlug",
           coalesce(sum(p.amount_minor) filter (where e.kind <> 'match_payment'), 0)::int8 as "earnedMinor",
           coalesce(-sum(p.amount_minor) filter (where e.kind = 'match_payment'), 0)::int8 as "paidMinor",
           coalesce(sum(p.amount_minor), 0)::int8 as "outstandingMinor"
    from ledger_accounts a
    join ledger_postings p on p.account_id = a.id
    join ledger_entries e on e.id = p.entry_id
    where (a.path = ${prefix} or a.path like ${`${prefix}:%`}) ${filters(scope)}
    group by a.fiscal_partner_id, a.currency, a.path
    order by 1, 2, 3`)
  return rows
}

export type CampaignLedgerLine = {
  fiscalPartnerId: string
  currency: string
  path: string
  balanceMinor: number
}

/** Everything the ledger holds for one campaign's gifts and matches, by account. */
export async function getCampaignBalances(exec: Executor, campaignId: number, scope: Scope = {}): Promise<CampaignLedgerLine[]> {
  const { rows } = await exec.execute<CampaignLedgerLine>(sql`
    select a.fiscal_partner_id as "fiscalPartnerId", a.currency, a.path, sum(p.amount_minor)::int8 as "balanceMinor"
    from ledger_entries e
    join ledger_postings p on p.entry_id = e.id
    join ledger_accounts a on a.id = p.account_id
    where e.campaign_id = ${campaignId} ${filters(scope)}
    group by 1, 2, 3
    order by 1, 2, 3`)
  return rows
}
