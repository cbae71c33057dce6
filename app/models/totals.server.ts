// Campaign totals: the one row a campaign page reads, moved in the same transaction as the
// postings it summarises. Callers lock pledges before calling this (ledger.md §3 lock order).
import { sql } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'

export interface TotalsDelta {
  raisedMinor?: number
  matchedMinor?: number
  gifts?: number
  /** A donor whose contribution to the campaign changed, for the donor count. */
  donor?: { id: number; countedDeltaMinor: number }
}

export async function addToTotals(tx: Executor, campaignId: number, delta: TotalsDelta): Promise<void> {
  let donors = 0
  if (delta.donor && delta.donor.countedDeltaMinor !== 0) {
    // A donor counts while anything they gave still counts; the count moves when they cross zero.
    // The candidate row is checked before ON CONFLICT applies, so it must be valid on its own.
    const change = delta.donor.countedDeltaMinor
    const { rows } = await tx.execute<{ after: number; inserted: boolean }>(sql`
      insert into campaign_donors (campaign_id, donor_id, counted_minor)
      values (${campaignId}, ${delta.donor.id}, greatest(${change}::int8, 0))
      on conflict (campaign_id, donor_id)
      do update set counted_minor = campaign_donors.counted_minor + ${change}::int8
      returning counted_minor as after, (xmax = 0) as inserted`)
    const { after, inserted } = rows[0]!
    const before = inserted ? 0 : after - change
    donors = Number(after > 0) - Number(before > 0)
  }
  const raised = delta.raisedMinor ?? 0
  const matched = delta.matchedMinor ?? 0
  const gifts = delta.gifts ?? 0
  if (raised === 0 && matched === 0 && gifts === 0 && donors === 0) return
  await tx.execute(sql`
    update campaign_totals set
      raised_gifts_minor = raised_gifts_minor + ${raised},
      matched_minor = matched_minor + ${matched},
      gifts_count = gifts_count + ${gifts},
      donors_count = donors_count + ${donors},
      updated_at = now()
    where campaign_id = ${campaignId}`)
}

export type TotalsDrift = {
  campaignId: number
  field: 'raised_gifts_minor' | 'matched_minor' | 'donors_count' | 'gifts_count' | 'pledge_matched_minor'
  pledgeId?: number
  stored: number
  fromLedger: number
}

/**
 * Recomputes every campaign's totals from the ledger and reports each figure that disagrees:
 * raised from the campaign value recorded on gift, refund and dispute entries; match from the
 * match postings themselves; donors from the same entries grouped by donor; gifts from the gift
 * entries (one per settled payment, never undone: a refunded gift was still given).
 */
export async function verifyCampaignTotals(exec: Executor, campaignId?: number): Promise<TotalsDrift[]> {
  const only = campaignId === undefined ? sql`true` : sql`c.id = ${campaignId}`
  const { rows } = await exec.execute<TotalsDrift>(sql`
    with gift_values as (
      select e.campaign_id, d.donor_id, sum(e.campaign_value_minor) as value
      from ledger_entries e join donations d on d.id = e.donation_id
      where e.campaign_value_minor is not null
      group by 1, 2
    ), ledger_raised as (
      select campaign_id, sum(value) as raised, count(*) filter (where value > 0) as donors
      from gift_values group by 1
    ), ledger_match as (
      select e.campaign_id, -sum(p.amount_minor) as matched
      from ledger_entries e
      join ledger_postings p on p.entry_id = e.id
      join ledger_accounts a on a.id = p.account_id
      where e.kind in ('match', 'match_reversal', 'match_leftover') and a.path like 'funds:%:match'
      group by 1
    ), ledger_gifts as (
      select campaign_id, count(*) as gifts from ledger_entries where kind = 'gift' group by 1
    ), figures as (
      select c.id as campaign_id,
             t.raised_gifts_minor, coalesce(r.raised, 0) as raised,
             t.matched_minor, coalesce(m.matched, 0) as matched,
             t.donors_count, coalesce(r.donors, 0) as donors,
             t.gifts_count, coalesce(g.gifts, 0) as gifts
      from campaigns c
      join campaign_totals t on t.campaign_id = c.id
      left join ledger_raised r on r.campaign_id = c.id
      left join ledger_match m on m.campaign_id = c.id
      left join ledger_gifts g on g.campaign_id = c.id
      where ${only}
    ), pledge_match as (
      select p.campaign_id, p.id as pledge_id, p.matched_minor as stored,
             coalesce((select sum(x.amount_minor) from matches x where x.pledge_id = p.id), 0) as from_rows,
             coalesce((
               select -sum(po.amount_minor) from ledger_entries e
               join ledger_postings po on po.entry_id = e.id
               join ledger_accounts a on a.id = po.account_id
               where e.kind in ('match', 'match_reversal', 'match_leftover')
                 and e.source_key like 'match:' || p.id || ':%' and a.path like 'funds:%:match'
             ), 0) as from_ledger
      from match_pledges p join campaigns c on c.id = p.campaign_id
      where ${only}
    )
    select campaign_id as "campaignId", 'raised_gifts_minor' as field, null::int as "pledgeId",
           raised_gifts_minor::int8 as stored, raised::int8 as "fromLedger"
      from figures where raised_gifts_minor <> raised
    union all
    select campaign_id, 'matched_minor', null, matched_minor::int8, matched::int8 from figures where matched_minor <> matched
    union all
    select campaign_id, 'donors_count', null, donors_count::int8, donors::int8 from figures where donors_count <> donors
    union all
    select campaign_id, 'gifts_count', null, gifts_count::int8, gifts::int8 from figures where gifts_count <> gifts
    union all
    select campaign_id, 'pledge_matched_minor', pledge_id, stored::int8, from_ledger::int8
      from pledge_match where stored <> from_ledger or stored <> from_rows
    order by 1, 2`)
  return rows
}
