// The common case of settleDonation, kept short where it matters: the pledge rows and the campaign
// totals row are the hot rows every gift of a campaign queues on (ledger.md §5). The match is
// planned from a snapshot read without locks; the gift's own rows are written first; then one
// statement takes the pledge locks (in priority order), checks that nothing the plan depends on has
// moved, and moves the pledges, holds, donor count and totals. If anything moved, the savepoint is
// rolled back (releasing what it locked) and the caller takes the general path (settleMatch).
// Both paths write the same rows with the same keys and words; the tests run through both.
import { sql } from 'drizzle-orm'
import { formatMoney, isCurrency } from '#app/utils/money.ts'
import type { Executor } from '#db/client.ts'
import { allocateMatch, isLocked, type Allocation, type Limit, type PledgeState } from './match-rules.ts'
import { entriesCtes, entriesParam, matchEntry, type EntryInput } from './ledger.server.ts'
import { capRoom, type Gift, type Pledge } from './match-store.server.ts'
import { runPrepared, type Statement } from './prepared.server.ts'

export function money(amountMinor: number, currency: string) {
  return isCurrency(currency) ? formatMoney(amountMinor, currency) : `${amountMinor} ${currency} minor units`
}

export const limitWords: Record<Exclude<Limit, 'none'>, string> = {
  cap: 'the match cap was reached',
  per_gift_max: "the pledge's per-gift maximum",
  per_donor_max: "the pledge's per-donor maximum",
}

export function giftTerms(gift: Pick<Gift, 'createdAt' | 'designationId' | 'installment'>) {
  return { madeAt: gift.createdAt, designationId: gift.designationId, installment: gift.installment }
}

export interface Hold {
  pledgeId: number
  amountMinor: number
  status: 'held' | 'converted' | 'released' | 'expired'
}

/** Why a gift was matched what it was at settlement, for the match row (and explainMatch). */
export function settlementNote(pledge: Pledge, allocation: Allocation, reservation: Hold | undefined): string {
  const notes = [`Matched ${money(allocation.amountMinor, pledge.currency)} by ${pledge.partnerName} (${pledge.ratioNum}:${pledge.ratioDen})`]
  if (reservation?.status === 'held') notes.push(`${money(reservation.amountMinor, pledge.currency)} was reserved at checkout`)
  if (reservation && reservation.status !== 'held') notes.push(`the checkout's reservation had ${reservation.status}, so this came from the cap that remained`)
  if (!reservation) notes.push('nothing was reserved at checkout')
  if (allocation.limitedBy !== 'none') notes.push(`limited by ${limitWords[allocation.limitedBy]}`)
  return `${notes.join('; ')}.`
}

interface PlanRow {
  id: number
  fp: string
  currency: string
  partner: string
  amount: number
  portion: number
  held: number
  closed: boolean
  unlocked: boolean
  note: string | null
}

export interface FastPlan {
  rows: PlanRow[]
  matchedMinor: number
}

/**
 * The settlement's match, planned from unlocked reads, when it is the simple case: no per-donor
 * maximum, no challenge still locked, no cap running out, no hold left partly unused (each of those
 * needs the general path: counters per donor, an unlock, a shortfall, cap to offer to others).
 * The gift has just settled, so it holds no match yet.
 */
export function planFastSettlement(pledges: Pledge[], holds: Hold[], gift: Gift): FastPlan | null {
  if (pledges.some((p) => p.perDonorMaxMinor !== null || isLocked(p))) return null
  const held = new Map(holds.filter((h) => h.status === 'held').map((h) => [h.pledgeId, h.amountMinor]))
  const states = pledges.map<PledgeState>((p) => ({ terms: p, availableMinor: capRoom(p) + (held.get(p.id) ?? 0), giftMatchedMinor: 0, donorRoomMinor: null }))
  const result = allocateMatch(states, giftTerms(gift), gift.campaignAmountMinor)
  if (result.shortfallMinor > 0 || result.allocations.some((a) => a.limitedBy === 'cap')) return null
  if (result.skipped.some((s) => s.reason === 'cap' || s.reason === 'locked')) return null
  const byPledge = new Map(result.allocations.map((a) => [a.pledgeId, a]))
  for (const [pledgeId, amount] of held) if ((byPledge.get(pledgeId)?.amountMinor ?? 0) < amount) return null
  const rows = pledges.map<PlanRow>((p) => {
    const allocation = byPledge.get(p.id)
    return {
      id: p.id,
      fp: p.fiscalPartnerId,
      currency: p.currency,
      partner: p.partnerSlug,
      amount: allocation?.amountMinor ?? 0,
      portion: allocation?.portionMinor ?? 0,
      held: held.get(p.id) ?? 0,
      closed: p.closedAt !== null,
      unlocked: p.unlockedAt !== null,
      note: allocation ? settlementNote(p, allocation, holds.find((h) => h.pledgeId === p.id)) : null,
    }
  })
  return { rows, matchedMinor: result.allocations.reduce((sum, a) => sum + a.amountMinor, 0) }
}

/** A donation as settling it needs it, locked, with its campaign's pledges and its own holds. */
export interface DonationToSettle {
  id: string
  campaignId: number
  donorId: number
  fiscalPartnerId: string
  designationId: string
  installment: number
  createdAt: Date
  status: Gift['status']
  amountMinor: number
  feeCoveredMinor: number
  chargedMinor: number
  currency: string
  campaignAmountMinor: number
  campaignFxRate: string
  refundedMinor: number
  lostDisputeMinor: number
  matchShortfallMinor: number
  settledAt: Date | null
  paymentIntentId: string | null
  invoiceId: string | null
  balanceTransactionId: string | null
  campaignCurrency: string
  feePolicy: 'designation' | 'unrestricted'
  pledges: Pledge[]
  holds: Hold[]
}

const lockToSettle: Statement = {
  name: 'lift_lock_donation_to_settle_v1',
  text: `
    select d.id, d.campaign_id as "campaignId", d.donor_id as "donorId", d.fiscal_partner_id as "fiscalPartnerId",
      d.designation_id as "designationId", d.installment, d.created_at as "createdAt", d.status, d.amount_minor as "amountMinor",
      d.fee_covered_minor as "feeCoveredMinor", d.charged_minor as "chargedMinor", d.currency,
      d.campaign_amount_minor as "campaignAmountMinor", d.campaign_fx_rate as "campaignFxRate", d.refunded_minor as "refundedMinor",
      d.lost_dispute_minor as "lostDisputeMinor", d.match_shortfall_minor as "matchShortfallMinor", d.settled_at as "settledAt",
      d.payment_intent_id as "paymentIntentId", d.invoice_id as "invoiceId", d.balance_transaction_id as "balanceTransactionId",
      c.currency as "campaignCurrency", fp.fee_policy as "feePolicy",
      (select coalesce(json_agg(json_build_object(
        'id', mp.id, 'campaignId', mp.campaign_id, 'fiscalPartnerId', mp.fiscal_partner_id, 'currency', mp.currency,
        'partnerSlug', po.slug, 'partnerName', po.name, 'capMinor', mp.cap_minor, 'matchedMinor', mp.matched_minor,
        'reservedMinor', mp.reserved_minor, 'ratioNum', mp.ratio_num, 'ratioDen', mp.ratio_den, 'startsAt', mp.starts_at,
        'endsAt', mp.ends_at, 'perGiftMaxMinor', mp.per_gift_max_minor, 'perDonorMaxMinor', mp.per_donor_max_minor,
        'designationIds', mp.designation_ids, 'matchedInstallments', mp.matched_installments,
        'unlockMinRaisedMinor', mp.unlock_min_raised_minor, 'unlockMinDonors', mp.unlock_min_donors,
        'unlockedAt', mp.unlocked_at, 'closedAt', mp.closed_at, 'leftoverPolicy', mp.leftover_policy,
        'leftoverMinor', mp.leftover_minor) order by mp.priority), '[]')
       from match_pledges mp join partner_organisations po on po.id = mp.partner_organisation_id
       where mp.campaign_id = d.campaign_id) as pledges,
      (select coalesce(json_agg(json_build_object('pledgeId', r.pledge_id, 'amountMinor', r.amount_minor, 'status', r.status)), '[]')
       from match_reservations r where r.donation_id = d.id) as holds
    from donations d
    join campaigns c on c.id = d.campaign_id
    join fiscal_partners fp on fp.id = d.fiscal_partner_id
    where d.id = $1::uuid
    for update of d`,
}

type Dated<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] extends Date ? string : string | null }

/**
 * Locks the donation row (the first lock of every gift event) and reads, in the same round trip,
 * what planning its match needs: the pledges and the gift's holds, as they stand, unlocked.
 */
export async function lockDonationToSettle(tx: Executor, donationId: string): Promise<DonationToSettle | undefined> {
  type Row = Dated<Omit<DonationToSettle, 'pledges'>, 'createdAt' | 'settledAt'> & { pledges: Dated<Pledge, 'startsAt' | 'endsAt' | 'unlockedAt' | 'closedAt'>[] }
  const [row] = await runPrepared<Row>(tx, lockToSettle, [donationId])
  if (!row) return undefined
  const date = (v: string | null) => (v === null ? null : new Date(v))
  return {
    ...row,
    createdAt: new Date(row.createdAt),
    settledAt: date(row.settledAt),
    pledges: row.pledges.map((p) => ({ ...p, startsAt: new Date(p.startsAt), endsAt: new Date(p.endsAt), unlockedAt: date(p.unlockedAt), closedAt: date(p.closedAt) })),
  }
}

/** What settlement writes on the donation row (settleDonation's UPDATE, in either path). */
export interface Settled {
  status: 'succeeded'
  chargeId: string
  paymentIntentId: string | null
  invoiceId: string | null
  balanceTransactionId: string
  settledAmountMinor: number
  settledFeeMinor: number
  settledNetMinor: number
  settlementCurrency: string
  exchangeRate: string | null
  campaignAmountMinor: number
  campaignFxRate: string
  campaignFxSource: 'identity' | 'stripe' | 'table'
  countedMinor: number
  matchShortfallMinor: 0
  failureReason: null
  settledAt: Date
  updatedAt: Date
}

const ownRows: Statement = {
  name: 'lift_settle_own_rows_v1',
  text: `
    with ${entriesCtes}, settled as (
      update donations set status = 'succeeded', charge_id = $3, payment_intent_id = $4, invoice_id = $5,
        balance_transaction_id = $6, settled_amount_minor = $7::int8, settled_fee_minor = $8::int8, settled_net_minor = $9::int8,
        settlement_currency = $10, exchange_rate = $11::numeric, campaign_amount_minor = $12::int8, campaign_fx_rate = $13::numeric,
        campaign_fx_source = $14, counted_minor = $12::int8, match_shortfall_minor = 0, failure_reason = null,
        settled_at = $15::timestamptz, updated_at = $16::timestamptz
      where id = $2::uuid
      returning id
    ), match_rows as (
      insert into matches (pledge_id, donation_id, donor_id, kind, amount_minor, portion_minor, source_key, note, ledger_entry_id, created_at)
      select m.pledge_id, $2::uuid, $17::int, 'earned', m.amount, m.portion, 'settle:' || $2::uuid, m.note, e.id, $15::timestamptz
      from jsonb_to_recordset($18::jsonb) as m(pledge_id int, entry_key text, amount int8, portion int8, note text)
      join entries e on e.kind = 'match' and e.source_key = m.entry_key
      returning 1
    )
    select (select count(*) from entries)::int as entries, (select count(*) from match_rows)::int as matches,
      (select count(*) from settled)::int as settled`,
}

/**
 * Settles the gift by the plan, or writes nothing and returns false (the caller then takes the
 * general path). Two statements inside a savepoint: first everything that is the gift's own —
 * its donation row, its gift entry, its match entries and match rows, none of them rows anyone
 * else waits for; then, as late and as short as possible, the one that takes the pledge locks,
 * checks the plan still holds, and moves the pledges, holds, donor count and campaign totals.
 */
export async function settleFast(
  tx: Executor,
  { gift, plan, at, settled, giftEntry }: { gift: Gift; plan: FastPlan; at: Date; settled: Settled; giftEntry: EntryInput },
): Promise<boolean> {
  await tx.execute(sql`savepoint settle_fast`)
  const matched = plan.rows.filter((row) => row.amount > 0)
  const matchEntries = matched.map((row) =>
    matchEntry({
      kind: 'match', pledgeId: row.id, matchKey: `settle:${gift.id}`, fiscalPartnerId: row.fp, currency: row.currency,
      partnerSlug: row.partner, designationId: gift.designationId, campaignId: gift.campaignId, donationId: gift.id,
      amountMinor: row.amount, effectiveAt: at,
    }),
  )
  const matchRows = matched.map((row, i) => ({ pledge_id: row.id, entry_key: matchEntries[i]!.sourceKey, amount: row.amount, portion: row.portion, note: row.note }))
  const [own] = await runPrepared<{ entries: number; matches: number; settled: number }>(tx, ownRows, [
    entriesParam([giftEntry, ...matchEntries]),
    gift.id,
    settled.chargeId,
    settled.paymentIntentId,
    settled.invoiceId,
    settled.balanceTransactionId,
    settled.settledAmountMinor,
    settled.settledFeeMinor,
    settled.settledNetMinor,
    settled.settlementCurrency,
    settled.exchangeRate,
    settled.campaignAmountMinor,
    settled.campaignFxRate,
    settled.campaignFxSource,
    settled.settledAt.toISOString(),
    settled.updatedAt.toISOString(),
    gift.donorId,
    JSON.stringify(matchRows),
  ])
  const wrote = own!.entries === 1 + matched.length && own!.matches === matched.length && own!.settled === 1
  if (wrote && (await moveHotRows(tx, { gift, plan, valueMinor: settled.campaignAmountMinor, at }))) return true
  await tx.execute(sql`rollback to savepoint settle_fast`)
  return false
}

/**
 * The locked section, which writes nothing unless the plan still holds. Its text never changes, so
 * it runs as a named prepared statement: planned once per connection, not once per gift, because
 * planning it would otherwise be half the time the pledge rows stay locked.
 */
const hotRows: Statement = {
  name: 'lift_settle_hot_rows_v1',
  text: `
    with plan as materialized (
      select * from jsonb_to_recordset($1::jsonb) as p(id int, amount int8, held int8, closed boolean, unlocked boolean)
    ), locked as materialized (
      -- The lock order of ledger.md §3: pledges in priority order, before anything else below.
      select id, matched_minor, reserved_minor, cap_minor, closed_at, unlocked_at
      from match_pledges where campaign_id = $2::int order by priority for no key update
    ), holds as materialized (
      -- Read under lock, after the pledges: whoever else changes a hold holds the pledges too.
      select pledge_id, amount_minor from match_reservations
      where donation_id = $3::uuid and status = 'held' and (select count(*) from locked) >= 0
      for update
    ), verdict as materialized (
      select (select count(*) from locked) = (select count(*) from plan)
        and (select count(*) from holds) = (select count(*) from plan where held > 0)
        and coalesce((
          select bool_and((l.closed_at is not null) = p.closed and (l.unlocked_at is not null) = p.unlocked
            and l.matched_minor + l.reserved_minor + p.amount - p.held <= l.cap_minor
            and coalesce((select sum(h.amount_minor) from holds h where h.pledge_id = l.id), 0) = p.held)
          from locked l join plan p on p.id = l.id), true) as ok
    ), moved as (
      update match_pledges m set matched_minor = m.matched_minor + p.amount, reserved_minor = m.reserved_minor - p.held
      from plan p where m.id = p.id and (p.amount <> 0 or p.held <> 0) and (select ok from verdict)
      returning 1
    ), converted as (
      update match_reservations r set status = 'converted', resolved_at = $4::timestamptz
      where r.donation_id = $3::uuid and r.status = 'held' and (select ok from verdict)
      returning 1
    ), donor as (
      -- A donor counts while anything they gave still counts: +1 when their counted value leaves zero.
      insert into campaign_donors (campaign_id, donor_id, counted_minor)
      select $2::int, $5::int, $6::int8 where $6::int8 > 0 and (select ok from verdict)
      on conflict (campaign_id, donor_id) do update set counted_minor = campaign_donors.counted_minor + excluded.counted_minor
      returning counted_minor as after, (xmax = 0) as inserted
    ), totals as (
      update campaign_totals set
        raised_gifts_minor = raised_gifts_minor + $6::int8,
        matched_minor = matched_minor + $7::int8,
        gifts_count = gifts_count + 1,
        donors_count = donors_count + coalesce((select 1 from donor d where d.inserted or d.after - $6::int8 <= 0), 0),
        updated_at = now()
      where campaign_id = $2::int and (select ok from verdict)
      returning 1
    )
    select (select ok from verdict) as ok,
      (select count(*) from moved) + (select count(*) from converted) + (select count(*) from totals) as written`,
}

async function moveHotRows(tx: Executor, { gift, plan, valueMinor, at }: { gift: Gift; plan: FastPlan; valueMinor: number; at: Date }) {
  const checks = plan.rows.map(({ id, amount, held, closed, unlocked }) => ({ id, amount, held, closed, unlocked }))
  const [row] = await runPrepared<{ ok: boolean }>(tx, hotRows, [
    JSON.stringify(checks), gift.campaignId, gift.id, at.toISOString(), gift.donorId, valueMinor, plan.matchedMinor,
  ])
  return row!.ok === true
}
