// What the public campaign pages read. Totals come from the one campaign_totals row the ledger
// keeps in step (never a SUM over gifts per view), and donor names are reduced to "Ada L." here,
// with an anonymous donor's name never even selected. The public sees live and finished
// campaigns; drafts are for admins only.
import { and, asc, eq, ne, sql } from 'drizzle-orm'
import { db, getDatabaseUrl } from '#app/utils/db.server.ts'
import { giftAidPartner } from '#app/utils/gift-aid.ts'
import { isCurrency, type Currency, type FeeEstimate } from '#app/utils/money.ts'
import { poolOf, type Db, type Executor } from '#db/client.ts'
import { campaigns, designations, matchPledges } from '#db/schema/catalog.ts'
import { campaignTotals } from '#db/schema/matching.ts'

export interface Supporter {
  /** "Ada L." or "Anonymous". */
  displayName: string
  amountMinor: number
  currency: Currency
  settledAt: Date
}

export interface DesignationOption {
  id: string
  name: string
  description: string
}

const totalsColumns = {
  raisedGiftsMinor: sql<number>`coalesce(${campaignTotals.raisedGiftsMinor}, 0)`.mapWith(Number),
  matchedMinor: sql<number>`coalesce(${campaignTotals.matchedMinor}, 0)`.mapWith(Number),
  donorsCount: sql<number>`coalesce(${campaignTotals.donorsCount}, 0)`.mapWith(Number),
}

/** Live campaigns for the home page, soonest ending first, with what their bars need. */
export async function getLiveCampaigns(exec: Executor = db) {
  const pledgeSums = exec
    .select({
      campaignId: matchPledges.campaignId,
      capMinor: sql<number>`sum(${matchPledges.capMinor})`.mapWith(Number).as('cap_minor'),
      matchedMinor: sql<number>`sum(${matchPledges.matchedMinor})`.mapWith(Number).as('pledges_matched_minor'),
    })
    .from(matchPledges)
    .groupBy(matchPledges.campaignId)
    .as('pledge_sums')
  const rows = await exec
    .select({
      slug: campaigns.slug,
      title: campaigns.title,
      summary: campaigns.summary,
      currency: campaigns.currency,
      donorTargetMinor: campaigns.donorTargetMinor,
      startsAt: campaigns.startsAt,
      endsAt: campaigns.endsAt,
      ...totalsColumns,
      matchCapMinor: sql<number>`coalesce(${pledgeSums.capMinor}, 0)`.mapWith(Number),
      pledgesMatchedMinor: sql<number>`coalesce(${pledgeSums.matchedMinor}, 0)`.mapWith(Number),
    })
    .from(campaigns)
    .leftJoin(campaignTotals, eq(campaignTotals.campaignId, campaigns.id))
    .leftJoin(pledgeSums, eq(pledgeSums.campaignId, campaigns.id))
    .where(eq(campaigns.status, 'live'))
    .orderBy(asc(campaigns.endsAt), asc(campaigns.id))
  return rows.map((row) => ({ ...row, currency: toCurrency(row.currency) }))
}

export type LiveCampaign = Awaited<ReturnType<typeof getLiveCampaigns>>[number]

// The campaign page is the hottest read we have, so it is one named (prepared) statement: one
// round trip, planned once per connection, instead of four queries through the query builder
// (docs/decisions/0006-campaign-page-single-statement.md). The four parts are independent
// subqueries of that one statement. Column names are spelled out; nothing sums gifts.
const campaignPageStatement = {
  name: 'campaign_page_v4',
  text: `
    with campaign as (
      select c.id, c.slug, c.title, c.summary, c.story_markdown, c.currency, c.donor_target_minor,
             c.starts_at, c.ends_at, c.status, c.default_designation_id,
             coalesce(t.raised_gifts_minor, 0) as raised_gifts_minor,
             coalesce(t.matched_minor, 0) as matched_minor,
             coalesce(t.donors_count, 0) as donors_count
      from campaigns c left join campaign_totals t on t.campaign_id = c.id
      where c.slug = $1 and c.status in ('live', 'closed')
    )
    select campaign.*,
      (select coalesce(json_agg(p order by p.priority), '[]') from (
         select mp.id, po.name as "partnerName", mp.cap_minor as "capMinor", mp.matched_minor as "matchedMinor",
                mp.ratio_num as "ratioNum", mp.ratio_den as "ratioDen", mp.priority
         from match_pledges mp join partner_organisations po on po.id = mp.partner_organisation_id
         where mp.campaign_id = campaign.id) p) as pledges,
      (select coalesce(json_agg(d order by d.sort_order, d.id), '[]') from (
         select id, name, description, sort_order from designations) d) as designations,
      (select coalesce(json_agg(f order by f.is_home desc, f.id), '[]') from (
         select id, legal_name as "legalName", is_home from fiscal_partners) f) as partners,
      -- What "cover the fee" adds to a gift Gift Aid applies to, so the declaration names it.
      (select json_build_object('percentBps', fe.percent_bps, 'fixedMinor', fe.fixed_minor)
       from fiscal_partner_fees fe where fe.fiscal_partner_id = $2 and fe.currency = $3) as gift_aid_fee,
      (select coalesce(json_agg(s order by s."settledAt" desc), '[]') from (
         -- Anonymous gifts never select the name at all. A gift refunded or lost in full no
         -- longer supports the campaign.
         select case when g.anonymous then null else g.donor_name end as name, g.amount_minor as "amountMinor",
                g.currency, g.settled_at as "settledAt"
         from donations g
         where g.campaign_id = campaign.id and g.status = 'succeeded' and g.settled_at is not null
           and g.refunded_minor + g.lost_dispute_minor < g.charged_minor
         order by g.settled_at desc
         limit 8) s) as supporters
    from campaign`,
}

interface CampaignPageRow {
  id: number
  slug: string
  title: string
  summary: string
  story_markdown: string
  currency: string
  donor_target_minor: number
  starts_at: Date
  ends_at: Date
  status: 'live' | 'closed'
  default_designation_id: string
  raised_gifts_minor: number
  matched_minor: number
  donors_count: number
  pledges: { id: number; partnerName: string; capMinor: number; matchedMinor: number; ratioNum: number; ratioDen: number }[]
  designations: DesignationOption[]
  partners: { id: string; legalName: string }[]
  gift_aid_fee: FeeEstimate | null
  /** settledAt is JSON text here. */
  supporters: { name: string | null; amountMinor: number; currency: string; settledAt: string }[]
}

/** Everything a campaign page shows, or null for an unknown or draft slug. */
export async function getCampaignPage(slug: string, database: Db = db) {
  const { rows } = await poolOf(database).query<CampaignPageRow>({
    ...campaignPageStatement,
    values: [slug, giftAidPartner.fiscalPartnerId, giftAidPartner.currency],
  })
  const row = rows[0]
  if (!row) return null
  return {
    campaign: {
      id: row.id,
      slug: row.slug,
      title: row.title,
      summary: row.summary,
      storyMarkdown: row.story_markdown,
      currency: toCurrency(row.currency),
      donorTargetMinor: row.donor_target_minor,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      status: row.status,
      defaultDesignationId: row.default_designation_id,
      raisedGiftsMinor: row.raised_gifts_minor,
      matchedMinor: row.matched_minor,
      donorsCount: row.donors_count,
    },
    pledges: row.pledges,
    designations: row.designations.map(({ id, name, description }) => ({ id, name, description })),
    partners: row.partners.map(({ id, legalName }) => ({ id, legalName })),
    giftAidFee: row.gift_aid_fee,
    supporters: row.supporters.map(
      (gift): Supporter => ({
        displayName: gift.name === null ? 'Anonymous' : publicName(gift.name),
        amountMinor: gift.amountMinor,
        currency: toCurrency(gift.currency),
        settledAt: new Date(gift.settledAt),
      }),
    ),
  }
}

// A campaign page under load (an appeal email going out, a partner sharing it) asks the same
// question many times at once. Views that arrive while a read is in flight share that read; none
// is kept after it returns, so a page never shows figures older than the request itself
// (docs/decisions/0006).
const inFlight = new Map<string, ReturnType<typeof getCampaignPage>>()

/** getCampaignPage, shared by views that ask while the same read is running. */
export function getCampaignPageSnapshot(slug: string): ReturnType<typeof getCampaignPage> {
  // Keyed by database too, so tests that swap databases never see each other's pages.
  const key = `${getDatabaseUrl()}\u0000${slug}`
  const running = inFlight.get(key)
  if (running) return running
  const page = getCampaignPage(slug).finally(() => inFlight.delete(key))
  inFlight.set(key, page)
  return page
}

export type CampaignPage = NonNullable<Awaited<ReturnType<typeof getCampaignPage>>>

/** What the donation action needs to validate a gift to this campaign; null as for the page. */
export async function getCampaignForDonation(slug: string, exec: Executor = db) {
  const [rows, designationRows] = await Promise.all([
    exec
      .select({
        id: campaigns.id,
        status: campaigns.status,
        currency: campaigns.currency,
        startsAt: campaigns.startsAt,
        endsAt: campaigns.endsAt,
      })
      .from(campaigns)
      .where(and(eq(campaigns.slug, slug), ne(campaigns.status, 'draft')))
      .limit(1),
    getDesignationOptions(exec),
  ])
  const campaign = rows[0]
  if (!campaign) return null
  return { campaign, designationIds: designationRows.map((d) => d.id) }
}

function getDesignationOptions(exec: Executor): Promise<DesignationOption[]> {
  return exec
    .select({ id: designations.id, name: designations.name, description: designations.description })
    .from(designations)
    .orderBy(asc(designations.sortOrder), asc(designations.id))
}

/** "Ada Lovelace" → "Ada L.": a first name and an initial is as much as we show publicly. */
export function publicName(fullName: string): string {
  const words = fullName.trim().split(/\s+/u).filter(Boolean)
  const first = words[0]
  if (!first) return 'A supporter'
  const last = words.length > 1 ? words[words.length - 1]! : ''
  const initial = Array.from(last)[0]
  return initial ? `${first} ${initial.toLocaleUpperCase()}.` : first
}

/** Whether the campaign takes gifts right now: live, and inside its window. */
export function isOpenForGifts(campaign: { status: string; startsAt: Date; endsAt: Date }, now: Date): boolean {
  return campaign.status === 'live' && campaign.startsAt <= now && now < campaign.endsAt
}

/** Campaign and gift currencies are checked by the database's shape, and here against what we support. */
function toCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new Error(`Unsupported currency ${code}: the app handles USD, GBP and NZD`)
  return code
}
