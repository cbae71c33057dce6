// Rows behind the matching engine: pledges read under lock, gifts, per-donor counters, and the
// one place a match row and its ledger entry are written together.
import { and, eq, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'
import { matchPledges, partnerOrganisations } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { matchPledgeDonors, matches } from '#db/schema/matching.ts'
import { postMatch } from './ledger.server.ts'
import { isLocked, type Allocation, type PledgeState, type PledgeTerms } from './match-rules.ts'

export interface Pledge extends PledgeTerms {
  campaignId: number
  fiscalPartnerId: string
  currency: string
  partnerSlug: string
  leftoverPolicy: 'return' | 'donate'
  leftoverMinor: number | null
}

const pledgeColumns = {
  id: matchPledges.id,
  campaignId: matchPledges.campaignId,
  fiscalPartnerId: matchPledges.fiscalPartnerId,
  currency: matchPledges.currency,
  partnerSlug: partnerOrganisations.slug,
  partnerName: partnerOrganisations.name,
  capMinor: matchPledges.capMinor,
  matchedMinor: matchPledges.matchedMinor,
  reservedMinor: matchPledges.reservedMinor,
  ratioNum: matchPledges.ratioNum,
  ratioDen: matchPledges.ratioDen,
  startsAt: matchPledges.startsAt,
  endsAt: matchPledges.endsAt,
  perGiftMaxMinor: matchPledges.perGiftMaxMinor,
  perDonorMaxMinor: matchPledges.perDonorMaxMinor,
  designationIds: matchPledges.designationIds,
  matchedInstallments: matchPledges.matchedInstallments,
  unlockMinRaisedMinor: matchPledges.unlockMinRaisedMinor,
  unlockMinDonors: matchPledges.unlockMinDonors,
  unlockedAt: matchPledges.unlockedAt,
  closedAt: matchPledges.closedAt,
  leftoverPolicy: matchPledges.leftoverPolicy,
  leftoverMinor: matchPledges.leftoverMinor,
}

/**
 * A campaign's pledges in their stated order, locked for this transaction. Always taken in this
 * order and before the totals row (ledger.md §3), so concurrent gifts cannot deadlock on them.
 */
export function lockPledges(tx: Executor, campaignId: number): Promise<Pledge[]> {
  return tx
    .select(pledgeColumns)
    .from(matchPledges)
    .innerJoin(partnerOrganisations, eq(partnerOrganisations.id, matchPledges.partnerOrganisationId))
    .where(eq(matchPledges.campaignId, campaignId))
    .orderBy(matchPledges.priority)
    // NO KEY UPDATE: what an UPDATE of the counters takes. It serialises every change to a pledge
    // without blocking the foreign-key checks (KEY SHARE) of rows that merely refer to it.
    .for('no key update', { of: matchPledges })
}

export function readPledges(exec: Executor, campaignId: number): Promise<Pledge[]> {
  return exec
    .select(pledgeColumns)
    .from(matchPledges)
    .innerJoin(partnerOrganisations, eq(partnerOrganisations.id, matchPledges.partnerOrganisationId))
    .where(eq(matchPledges.campaignId, campaignId))
    .orderBy(matchPledges.priority)
}

export function capRoom(pledge: Pledge): number {
  return pledge.capMinor - pledge.matchedMinor - pledge.reservedMinor
}

/** Cap a gift waiting for it could be given now: unlocked, not closed, with room left. */
export function hasFreeCap(pledge: Pledge): boolean {
  return !isLocked(pledge) && !pledge.closedAt && capRoom(pledge) > 0
}

/**
 * Waiting gifts that at least one pledge with free cap could match: `ineligibility` (match-rules.ts)
 * as SQL, so that a catch-up pass does not spend its page of oldest gifts on ones no open pledge
 * covers (gifts to a designation whose own pledge is still full would otherwise fill every page,
 * and newer gifts another pledge covers would wait for ever). It only narrows what is looked at:
 * allocateMatch still decides, and a test checks the two agree.
 */
export function couldUseFreeCap(pledges: Pledge[]): SQL | undefined {
  return or(
    ...pledges.filter(hasFreeCap).map((pledge) =>
      and(
        gte(donations.createdAt, pledge.startsAt),
        lt(donations.createdAt, pledge.endsAt),
        pledge.designationIds ? inArray(donations.designationId, pledge.designationIds) : undefined,
        pledge.matchedInstallments === null ? undefined : lte(donations.installment, pledge.matchedInstallments),
      ),
    ),
  )
}

export const giftColumns = {
  id: donations.id,
  campaignId: donations.campaignId,
  donorId: donations.donorId,
  designationId: donations.designationId,
  installment: donations.installment,
  createdAt: donations.createdAt,
  status: donations.status,
  campaignAmountMinor: donations.campaignAmountMinor,
  chargedMinor: donations.chargedMinor,
  refundedMinor: donations.refundedMinor,
  lostDisputeMinor: donations.lostDisputeMinor,
  matchShortfallMinor: donations.matchShortfallMinor,
  settledAt: donations.settledAt,
}

export type Gift = { [K in keyof typeof giftColumns]: (typeof giftColumns)[K]['_']['data'] }

export async function lockGift(tx: Executor, donationId: string): Promise<Gift | undefined> {
  const [gift] = await tx.select(giftColumns).from(donations).where(eq(donations.id, donationId)).for('update')
  return gift as Gift | undefined
}

/** Room left for a donor under each pledge's per-donor maximum (locked with the pledges). */
export async function donorRooms(tx: Executor, pledges: Pledge[], donorId: number): Promise<Map<number, number>> {
  const limited = pledges.filter((p) => p.perDonorMaxMinor !== null)
  const rooms = new Map(limited.map((p) => [p.id, p.perDonorMaxMinor!]))
  if (limited.length === 0) return rooms
  const used = await tx
    .select({ pledgeId: matchPledgeDonors.pledgeId, matched: matchPledgeDonors.matchedMinor, reserved: matchPledgeDonors.reservedMinor })
    .from(matchPledgeDonors)
    .where(and(eq(matchPledgeDonors.donorId, donorId), inArray(matchPledgeDonors.pledgeId, limited.map((p) => p.id))))
    .for('update')
  for (const row of used) rooms.set(row.pledgeId, rooms.get(row.pledgeId)! - row.matched - row.reserved)
  return rooms
}

/** Moves a pledge's counters (and its per-donor counters when it has a per-donor maximum). */
export async function movePledge(
  tx: Executor,
  pledge: Pledge,
  donorId: number | null,
  delta: { matchedMinor?: number; reservedMinor?: number },
): Promise<void> {
  const matched = delta.matchedMinor ?? 0
  const reserved = delta.reservedMinor ?? 0
  if (matched === 0 && reserved === 0) return
  await tx.execute(sql`
    update match_pledges set matched_minor = matched_minor + ${matched}, reserved_minor = reserved_minor + ${reserved}
    where id = ${pledge.id}`)
  pledge.matchedMinor += matched
  pledge.reservedMinor += reserved
  if (pledge.perDonorMaxMinor !== null && donorId !== null) {
    // The candidate row is checked against the table's CHECK before ON CONFLICT applies, so it
    // must be valid on its own: a negative delta (a hold converted or voided) only ever updates.
    await tx.execute(sql`
      insert into match_pledge_donors (pledge_id, donor_id, matched_minor, reserved_minor)
      values (${pledge.id}, ${donorId}, greatest(${matched}::int8, 0), greatest(${reserved}::int8, 0))
      on conflict (pledge_id, donor_id) do update set
        matched_minor = match_pledge_donors.matched_minor + ${matched}::int8,
        reserved_minor = match_pledge_donors.reserved_minor + ${reserved}::int8`)
  }
}

/** Net match and covered portion a gift holds from each pledge. */
export async function giftMatches(tx: Executor, donationId: string): Promise<Map<number, { amountMinor: number; portionMinor: number }>> {
  const rows = await tx
    .select({
      pledgeId: matches.pledgeId,
      amountMinor: sql<number>`sum(${matches.amountMinor})::int8`,
      portionMinor: sql<number>`sum(${matches.portionMinor})::int8`,
    })
    .from(matches)
    .where(eq(matches.donationId, donationId))
    .groupBy(matches.pledgeId)
  return new Map(rows.map((r) => [r.pledgeId, { amountMinor: r.amountMinor, portionMinor: r.portionMinor }]))
}

export interface MatchRow {
  pledge: Pledge
  kind: 'earned' | 'reversed' | 'leftover'
  donationId: string | null
  donorId: number | null
  designationId: string
  amountMinor: number
  portionMinor: number
  sourceKey: string
  note: string
  at: Date
}

/**
 * Writes one match row with its ledger entry and moves the pledge's matched counter. Returns
 * false, changing nothing, when a row with this pledge and source key already exists.
 */
export async function recordMatch(tx: Executor, row: MatchRow): Promise<boolean> {
  const [existing] = await tx
    .select({ id: matches.id })
    .from(matches)
    .where(and(eq(matches.pledgeId, row.pledge.id), eq(matches.sourceKey, row.sourceKey)))
  if (existing) return false
  const entry = await postMatch(tx, {
    kind: row.kind === 'earned' ? 'match' : row.kind === 'reversed' ? 'match_reversal' : 'match_leftover',
    pledgeId: row.pledge.id,
    matchKey: row.sourceKey,
    fiscalPartnerId: row.pledge.fiscalPartnerId,
    currency: row.pledge.currency,
    partnerSlug: row.pledge.partnerSlug,
    designationId: row.designationId,
    campaignId: row.pledge.campaignId,
    donationId: row.donationId,
    amountMinor: row.amountMinor,
    effectiveAt: row.at,
  })
  await tx.insert(matches).values({
    pledgeId: row.pledge.id,
    donationId: row.donationId,
    donorId: row.donorId,
    kind: row.kind,
    amountMinor: row.amountMinor,
    portionMinor: row.portionMinor,
    sourceKey: row.sourceKey,
    note: row.note,
    ledgerEntryId: entry.id,
    createdAt: row.at,
  })
  await movePledge(tx, row.pledge, row.donorId, { matchedMinor: row.amountMinor })
  return true
}

/** A gift's match from one pledge, as allocated: recordMatch for the 'earned' kind. */
export function recordEarnedMatch(
  tx: Executor,
  { gift, pledge, allocation, sourceKey, note, at }: {
    gift: Pick<Gift, 'id' | 'donorId' | 'designationId'>
    pledge: Pledge
    allocation: Pick<Allocation, 'amountMinor' | 'portionMinor'>
    sourceKey: string
    note: string
    at: Date
  },
): Promise<boolean> {
  return recordMatch(tx, {
    pledge,
    kind: 'earned',
    donationId: gift.id,
    donorId: gift.donorId,
    designationId: gift.designationId,
    amountMinor: allocation.amountMinor,
    portionMinor: allocation.portionMinor,
    sourceKey,
    note,
    at,
  })
}

/** Each pledge as one gift sees it: cap room (plus what the gift itself holds), its own match so far, its donor's room. */
export async function pledgeStates(tx: Executor, pledges: Pledge[], gift: Gift, own: Map<number, number> = new Map()) {
  const rooms = await donorRooms(tx, pledges, gift.donorId)
  const held = await giftMatches(tx, gift.id)
  return pledges.map<PledgeState>((p) => ({
    terms: p,
    // What this gift itself holds in reservation is available to it.
    availableMinor: capRoom(p) + (own.get(p.id) ?? 0),
    giftMatchedMinor: held.get(p.id)?.amountMinor ?? 0,
    donorRoomMinor: rooms.has(p.id) ? rooms.get(p.id)! + (own.get(p.id) ?? 0) : null,
  }))
}

/** Eligible value of a gift left unmatched because caps ran out (or a challenge is locked). */
export async function setShortfall(tx: Executor, donationId: string, shortfallMinor: number) {
  await tx.update(donations).set({ matchShortfallMinor: shortfallMinor }).where(eq(donations.id, donationId))
}
