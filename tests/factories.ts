// Builders for test data, written through the same tables the app uses. Each returns the rows it
// made; options override the defaults that matter to a test.
import { eq, sql } from 'drizzle-orm'
import { db } from '#app/utils/db.server.ts'
import type { Executor } from '#db/client.ts'
import { campaigns, designations, fiscalPartnerFees, fiscalPartners, fxRates, matchPledges, partnerOrganisations } from '#db/schema/catalog.ts'
import { donations, donors } from '#db/schema/giving.ts'
import { campaignTotals } from '#db/schema/matching.ts'

const day = 86_400_000

/** Fiscal partners, designations, fees and rates: the fixed catalogue every gift needs. */
export async function createCatalog(exec: Executor = db) {
  await exec.insert(fiscalPartners).values([
    { id: 'us', legalName: 'LIFT International', displayName: 'LIFT International (US)', country: 'US', currency: 'USD', registrationNumbers: { ein: '00-0000000' }, receiptPrefix: 'US', isHome: true },
    { id: 'uk', legalName: 'LIFT International UK', displayName: 'LIFT International UK', country: 'GB', currency: 'GBP', registrationNumbers: { charityNumber: '0000000' }, receiptPrefix: 'UK' },
    { id: 'nz', legalName: 'LIFT International New Zealand', displayName: 'LIFT International NZ', country: 'NZ', currency: 'NZD', registrationNumbers: { charitiesServices: 'CC00000' }, receiptPrefix: 'NZ' },
  ])
  await exec.insert(fiscalPartnerFees).values(
    ['us', 'uk', 'nz'].flatMap((fiscalPartnerId) =>
      ['USD', 'GBP', 'NZD'].map((currency) => ({ fiscalPartnerId, currency, percentBps: 290, fixedMinor: 30 })),
    ),
  )
  await exec.insert(designations).values([
    { id: 'love-packs', name: 'Love Packs', description: 'Care packs for survivors', restricted: true, sortOrder: 1 },
    { id: 'survivor-fund', name: 'Survivor Fund', description: 'Cash grants', restricted: true, sortOrder: 2 },
    { id: 'caregiver-training', name: 'Caregiver training', description: 'Training', restricted: true, sortOrder: 3 },
    { id: 'unrestricted', name: "Where it's needed most", description: 'Unrestricted', restricted: false, sortOrder: 4 },
  ])
  const today = new Date().toISOString().slice(0, 10)
  await exec.insert(fxRates).values([
    { base: 'GBP', quote: 'USD', effectiveOn: today, rate: '1.27000000', source: 'test' },
    { base: 'NZD', quote: 'USD', effectiveOn: today, rate: '0.59000000', source: 'test' },
  ])
  const [partner] = await exec.insert(partnerOrganisations).values({ slug: 'one-days-wages', name: "One Day's Wages" }).returning()
  return { partner: partner! }
}

export interface PledgeOptions {
  capMinor?: number
  ratioNum?: number
  ratioDen?: number
  priority?: number
  perGiftMaxMinor?: number | null
  perDonorMaxMinor?: number | null
  designationIds?: string[] | null
  matchedInstallments?: number | null
  unlockMinRaisedMinor?: number | null
  unlockMinDonors?: number | null
  leftoverPolicy?: 'return' | 'donate'
  partnerSlug?: string
  startsAt?: Date
  endsAt?: Date
}

/** A live USD campaign (its totals row too) with the given pledges; 1:1 up to $15,000 by default. */
export async function createCampaign(
  options: { slug?: string; currency?: string; donorTargetMinor?: number; pledges?: PledgeOptions[] } = {},
  exec: Executor = db,
) {
  const now = Date.now()
  const [campaign] = await exec
    .insert(campaigns)
    .values({
      slug: options.slug ?? `campaign-${Math.random().toString(36).slice(2, 8)}`,
      title: 'Aftercare for Survivors of Trafficking in Thailand',
      summary: 'Aftercare',
      storyMarkdown: 'Story',
      currency: options.currency ?? 'USD',
      donorTargetMinor: options.donorTargetMinor ?? 1_500_000,
      startsAt: new Date(now - 14 * day),
      endsAt: new Date(now + 30 * day),
      status: 'live',
      defaultDesignationId: 'survivor-fund',
    })
    .returning()
  await exec.insert(campaignTotals).values({ campaignId: campaign!.id })
  const pledges = []
  for (const [index, p] of (options.pledges ?? [{}]).entries()) {
    let [org] = await exec.select().from(partnerOrganisations).where(eq(partnerOrganisations.slug, p.partnerSlug ?? 'one-days-wages'))
    if (!org) [org] = await exec.insert(partnerOrganisations).values({ slug: p.partnerSlug!, name: p.partnerSlug! }).returning()
    const [pledge] = await exec
      .insert(matchPledges)
      .values({
        campaignId: campaign!.id,
        partnerOrganisationId: org!.id,
        fiscalPartnerId: 'us',
        currency: campaign!.currency,
        capMinor: p.capMinor ?? 1_500_000,
        ratioNum: p.ratioNum ?? 1,
        ratioDen: p.ratioDen ?? 1,
        priority: p.priority ?? index + 1,
        startsAt: p.startsAt ?? campaign!.startsAt,
        endsAt: p.endsAt ?? campaign!.endsAt,
        perGiftMaxMinor: p.perGiftMaxMinor ?? null,
        perDonorMaxMinor: p.perDonorMaxMinor ?? null,
        designationIds: p.designationIds ?? null,
        matchedInstallments: p.matchedInstallments ?? null,
        unlockMinRaisedMinor: p.unlockMinRaisedMinor ?? null,
        unlockMinDonors: p.unlockMinDonors ?? null,
        leftoverPolicy: p.leftoverPolicy ?? 'return',
      })
      .returning()
    pledges.push(pledge!)
  }
  return { campaign: campaign!, pledges }
}

let donorSequence = 0

export async function createDonor(options: { email?: string; name?: string; country?: string } = {}, exec: Executor = db) {
  const [donor] = await exec
    .insert(donors)
    .values({
      email: options.email ?? `donor${++donorSequence}-${Math.random().toString(36).slice(2, 8)}@example.org`,
      name: options.name ?? 'Ada Lovelace',
      country: options.country ?? 'US',
    })
    .returning()
  return donor!
}

export interface DonationOptions {
  campaignId: number
  donorId?: number
  /** The name given with the gift; a new donor of that name unless donorId is given. */
  donorName?: string
  amountMinor?: number
  feeCoveredMinor?: number
  currency?: string
  fiscalPartnerId?: string
  designationId?: string
  /** Value in the campaign's currency at checkout (the dated table rate); the amount by default. */
  campaignAmountMinor?: number
  campaignFxRate?: string
  installment?: number
  createdAt?: Date
  anonymous?: boolean
}

/** A pending donation, as checkout creates it. */
export async function createDonation(options: DonationOptions, exec: Executor = db) {
  const donor = options.donorId ? { id: options.donorId, name: options.donorName ?? 'Ada Lovelace' } : await createDonor({ name: options.donorName }, exec)
  const amountMinor = options.amountMinor ?? 5_000
  const fee = options.feeCoveredMinor ?? 0
  const [donation] = await exec
    .insert(donations)
    .values({
      campaignId: options.campaignId,
      donorId: donor.id,
      fiscalPartnerId: options.fiscalPartnerId ?? 'us',
      designationId: options.designationId ?? 'survivor-fund',
      frequency: 'one_off',
      amountMinor,
      feeCoveredMinor: fee,
      chargedMinor: amountMinor + fee,
      currency: options.currency ?? 'USD',
      campaignAmountMinor: options.campaignAmountMinor ?? amountMinor,
      campaignFxRate: options.campaignFxRate ?? '1',
      campaignFxSource: options.campaignFxRate ? 'table' : 'identity',
      donorName: donor.name,
      donorCountry: 'US',
      anonymous: options.anonymous ?? false,
      createdAt: options.createdAt ?? new Date(),
    })
    .returning()
  return donation!
}

let balanceSequence = 0

/** A Stripe-shaped balance transaction for a charge of `amountMinor` with a card fee. */
export function chargeBalance(amountMinor: number, options: { currency?: string; exchangeRate?: string | null; feeMinor?: number } = {}) {
  const settled = options.exchangeRate ? Math.round(amountMinor * Number(options.exchangeRate)) : amountMinor
  const fee = options.feeMinor ?? Math.round(settled * 0.029) + 30
  return {
    id: `txn_test_${++balanceSequence}_${Math.random().toString(36).slice(2, 8)}`,
    amountMinor: settled,
    feeMinor: fee,
    netMinor: settled - fee,
    currency: options.currency ?? 'USD',
    exchangeRate: options.exchangeRate ?? null,
  }
}

export function nextBalanceId() {
  return `txn_test_${++balanceSequence}_${Math.random().toString(36).slice(2, 8)}`
}

export async function countRows(table: string, exec: Executor = db): Promise<number> {
  const { rows } = await exec.execute<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)}`)
  return rows[0]!.n
}

/** Row counts of every table, to prove a request wrote nothing anywhere. */
export async function rowCounts(exec: Executor = db): Promise<Record<string, number>> {
  const { rows } = await exec.execute<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  )
  const counts: Record<string, number> = {}
  for (const { table_name } of rows) counts[table_name] = await countRows(table_name, exec)
  return counts
}
