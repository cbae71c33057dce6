// The finance integrity check: every invariant of ledger.md §4, recomputed from scratch.
import { sql } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'
import { verifyCampaignTotals } from './totals.server.ts'

export interface Finding {
  severity: 'error' | 'warning'
  check: string
  detail: string
}

async function rows<T extends Record<string, unknown>>(exec: Executor, query: ReturnType<typeof sql>) {
  return (await exec.execute<T>(query)).rows
}

export async function checkLedger(exec: Executor): Promise<Finding[]> {
  const findings: Finding[] = []
  const error = (check: string, detail: string) => findings.push({ severity: 'error', check, detail })
  const warning = (check: string, detail: string) => findings.push({ severity: 'warning', check, detail })

  for (const r of await rows<{ id: number; total: number; n: number }>(exec, sql`
    select e.id, coalesce(sum(p.amount_minor), 0)::int8 as total, count(p.id)::int as n
    from ledger_entries e left join ledger_postings p on p.entry_id = e.id
    group by e.id having coalesce(sum(p.amount_minor), 0) <> 0 or count(p.id) = 0`)) {
    error('balanced', `entry ${r.id} has ${r.n} postings summing to ${r.total}`)
  }
  for (const r of await rows<{ fiscal_partner_id: string; currency: string; total: number }>(exec, sql`
    select fiscal_partner_id, currency, sum(amount_minor)::int8 as total from ledger_postings
    group by 1, 2 having sum(amount_minor) <> 0`)) {
    error('assets = funds', `${r.fiscal_partner_id} ${r.currency}: all postings sum to ${r.total}`)
  }
  for (const r of await rows<{ id: number }>(exec, sql`
    select p.id from ledger_postings p
    left join ledger_entries e on e.id = p.entry_id and e.fiscal_partner_id = p.fiscal_partner_id
      and e.currency = p.currency and e.effective_at = p.effective_at
    left join ledger_accounts a on a.id = p.account_id and a.fiscal_partner_id = p.fiscal_partner_id and a.currency = p.currency
    where e.id is null or a.id is null`)) {
    error('no orphan postings', `posting ${r.id} does not match its entry or account`)
  }
  // The database's own guards (migrations 0001 and 0009): each trigger on its table and firing (a
  // table's owner can disable one without dropping it), and the keys and checks they rely on.
  const guardedTables = ['ledger_accounts', 'ledger_entries', 'ledger_postings', 'matches']
  const triggers: [table: string, trigger: string][] = [
    ...guardedTables.flatMap((table): [string, string][] => [
      [table, `${table}_append_only`],
      [table, `${table}_no_truncate`],
    ]),
    ['ledger_entries', 'ledger_entries_balanced'],
    ['ledger_postings', 'ledger_postings_balanced'],
  ]
  const present = await rows<{ table: string; tgname: string; enabled: string }>(exec, sql`
    select c.relname as table, t.tgname, t.tgenabled as enabled from pg_trigger t join pg_class c on c.oid = t.tgrelid
    where c.relname in ${guardedTables}`)
  for (const [table, trigger] of triggers) {
    const found = present.find((t) => t.table === table && t.tgname === trigger)
    if (!found) error('guards', `trigger ${trigger} on ${table} is missing`)
    // 'O' and 'A' fire in every session; 'D' never, 'R' only on a replica.
    else if (found.enabled !== 'O' && found.enabled !== 'A') error('guards', `trigger ${trigger} on ${table} is disabled`)
  }
  // 0009: the commit-time check of each posting also refuses one added to an earlier transaction's entry.
  const [postingCheck] = await rows<{ guarded: boolean }>(exec, sql`
    select prosrc like '%posted_in_xact%' as guarded from pg_proc where proname = 'check_ledger_posting_balanced'`)
  if (!postingCheck?.guarded) error('guards', 'check_ledger_posting_balanced no longer refuses postings added to a committed entry')
  const guardConstraints = ['ledger_entries_source', 'match_pledges_within_cap']
  const constraints = await rows<{ conname: string }>(exec, sql`select conname from pg_constraint where conname in ${guardConstraints}`)
  for (const name of guardConstraints) {
    if (!constraints.some((c) => c.conname === name)) error('guards', `constraint ${name} is missing`)
  }

  for (const r of await rows<{ id: number; cap: number; matched: number; reserved: number; held: number }>(exec, sql`
    select p.id, p.cap_minor as cap, p.matched_minor as matched, p.reserved_minor as reserved,
           coalesce((select sum(amount_minor) from match_reservations r where r.pledge_id = p.id and r.status = 'held'), 0)::int8 as held
    from match_pledges p`)) {
    if (r.matched < 0 || r.reserved < 0 || r.matched + r.reserved > r.cap) error('match ≤ cap', `pledge ${r.id}: matched ${r.matched} + reserved ${r.reserved} > cap ${r.cap}`)
    if (r.reserved !== r.held) error('reservations', `pledge ${r.id}: reserved ${r.reserved} but held reservations sum to ${r.held}`)
  }
  for (const r of await rows<{ pledge_id: number; donor_id: number; matched: number; reserved: number; from_matches: number; held: number }>(exec, sql`
    select c.pledge_id, c.donor_id, c.matched_minor as matched, c.reserved_minor as reserved,
           coalesce((select sum(m.amount_minor) from matches m where m.pledge_id = c.pledge_id and m.donor_id = c.donor_id), 0)::int8 as from_matches,
           coalesce((select sum(r.amount_minor) from match_reservations r
                     where r.pledge_id = c.pledge_id and r.donor_id = c.donor_id and r.status = 'held'), 0)::int8 as held
    from match_pledge_donors c`)) {
    if (r.matched !== r.from_matches || r.reserved !== r.held) {
      error('per-donor counters', `pledge ${r.pledge_id} donor ${r.donor_id}: matched ${r.matched} (rows say ${r.from_matches}), reserved ${r.reserved} (holds say ${r.held})`)
    }
  }
  // verifyCampaignTotals compares the rows that exist; a campaign taking gifts without one would
  // count nothing at all (its page would stay at zero).
  for (const r of await rows<{ id: number }>(exec, sql`
    select c.id from campaigns c where not exists (select 1 from campaign_totals t where t.campaign_id = c.id)
      and exists (select 1 from donations d where d.campaign_id = c.id)`)) {
    error('totals = ledger', `campaign ${r.id} takes gifts but has no totals row`)
  }
  for (const d of await verifyCampaignTotals(exec)) {
    error('totals = ledger', `campaign ${d.campaignId} ${d.field}${d.pledgeId ? ` (pledge ${d.pledgeId})` : ''}: stored ${d.stored}, ledger says ${d.fromLedger}`)
  }
  for (const r of await rows<{ id: string; counted: number; ledger: number }>(exec, sql`
    select d.id, d.counted_minor as counted, coalesce(sum(e.campaign_value_minor), 0)::int8 as ledger
    from donations d left join ledger_entries e on e.donation_id = d.id and e.campaign_value_minor is not null
    group by d.id having d.counted_minor <> coalesce(sum(e.campaign_value_minor), 0)`)) {
    error('gift = ledger', `donation ${r.id}: counts ${r.counted}, its entries say ${r.ledger}`)
  }
  for (const r of await rows<{ id: string; gifts: number }>(exec, sql`
    select d.id, count(e.id)::int as gifts from donations d
    left join ledger_entries e on e.donation_id = d.id and e.kind = 'gift'
    where d.balance_transaction_id is not null or e.id is not null
    group by d.id having count(e.id) <> 1`)) {
    error('one gift entry per settled gift', `donation ${r.id} has ${r.gifts} gift entries`)
  }
  for (const r of await rows<{ fiscal_partner_id: string; currency: string; designation: string; balance: number }>(exec, sql`
    select a.fiscal_partner_id, a.currency, split_part(a.path, ':', 2) as designation, -sum(p.amount_minor)::int8 as balance
    from ledger_postings p join ledger_accounts a on a.id = p.account_id join designations d on d.id = split_part(a.path, ':', 2)
    where a.path like 'funds:%' and d.restricted group by 1, 2, 3 having -sum(p.amount_minor) < 0`)) {
    warning('restricted funds', `${r.designation} at ${r.fiscal_partner_id} is ${r.balance} ${r.currency} minor units overdrawn (refunds after spending)`)
  }
  for (const r of await rows<{ fiscal_partner_id: string; currency: string; balance: number }>(exec, sql`
    select a.fiscal_partner_id, a.currency, sum(p.amount_minor)::int8 as balance from ledger_postings p
    join ledger_accounts a on a.id = p.account_id where a.path = 'suspense' group by 1, 2 having sum(p.amount_minor) <> 0`)) {
    warning('suspense', `${r.fiscal_partner_id} ${r.currency}: ${r.balance} minor units not yet attributed`)
  }
  return findings
}
