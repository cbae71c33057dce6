// The catalogue a fresh install needs to show something real: LIFT's fiscal partners, what gifts
// can fund, One Day's Wages as a match partner and three campaigns (live, finished, draft), with
// dates relative to `now` so the demo never goes stale. Gifts are not seeded here: they go
// through the ledger like real ones (scripts/demo-gifts.ts). db/ stays below app/, so this file
// imports only the schema.
import type { Executor } from './client.ts'
import {
  campaigns,
  designations,
  fiscalPartnerFees,
  fiscalPartners,
  fxRates,
  matchPledges,
  partnerOrganisations,
} from './schema/catalog.ts'
import { campaignTotals } from './schema/matching.ts'

const day = 24 * 60 * 60 * 1000
const daysFrom = (now: Date, days: number) => new Date(now.getTime() + days * day)

// Card fee estimates per charge currency, used to gross up "cover the fee". Charging in the
// entity's own currency is cheapest; any other currency adds Stripe's conversion and
// international card costs, so those estimates are higher. Finance adjusts them in the admin.
const feeEstimates: Record<string, Record<string, { percentBps: number; fixedMinor: number }>> = {
  us: { USD: { percentBps: 290, fixedMinor: 30 }, GBP: { percentBps: 490, fixedMinor: 30 }, NZD: { percentBps: 490, fixedMinor: 30 } },
  uk: { GBP: { percentBps: 150, fixedMinor: 20 }, USD: { percentBps: 325, fixedMinor: 20 }, NZD: { percentBps: 325, fixedMinor: 20 } },
  nz: { NZD: { percentBps: 270, fixedMinor: 30 }, USD: { percentBps: 440, fixedMinor: 30 }, GBP: { percentBps: 440, fixedMinor: 30 } },
}

// Demo rates: plausible, not live. Finance maintains the real table.
const demoRates: [base: string, quote: string, rate: string][] = [
  ['GBP', 'USD', '1.27000000'],
  ['NZD', 'USD', '0.59000000'],
  ['USD', 'GBP', '0.78740000'],
  ['USD', 'NZD', '1.69490000'],
  ['GBP', 'NZD', '2.15250000'],
  ['NZD', 'GBP', '0.46460000'],
]

export const aftercareStory = `When a survivor of trafficking walks out of a brothel, a bar or a fishing boat, the hardest part of
their journey is often just beginning. Freedom is the first step. Healing, safety and a way to earn
a living take months, sometimes years, and they need people who stay.

## What aftercare means

LIFT International's aftercare team in Thailand walks alongside survivors from the day they are
identified. That starts with a **Love Pack**: clean clothes, toiletries and a few personal things,
handed over in the first hours so that someone who arrived with nothing leaves with something of
their own.

From there, our caseworkers help each survivor build a plan that is theirs:

- safe accommodation and trauma-informed counselling;
- support through the legal process, so survivors can testify without being retraumatised;
- school fees, vocational courses and job placements;
- a way home, when home is safe, and continued contact after they arrive.

## The Survivor Fund

Plans stall on small, practical costs: a motorbike to reach a new job, a deposit on a room, tuition
for the next term, a hospital bill after an emergency. The **Survivor Fund** makes cash grants for
exactly these things, decided together with the survivor and their caseworker.

## Why your gift is doubled

Until this campaign ends, [One Day's Wages](https://www.onedayswages.org) will match every gift
dollar for dollar, up to $15,000. Together we aim to raise $30,000 for aftercare in Thailand: Love
Packs for newly identified survivors, Survivor Fund grants, and training for the caregivers and
shelter staff who support them.

> "Freedom was not the end. It was the first day I could plan my own life."
>
> — a survivor supported by LIFT's aftercare team (name withheld for her safety)

Every gift is used for aftercare. Thank you for standing with survivors for the long road.`

const winterStory = `Safe homes give survivors somewhere to rest, recover and plan what comes next. This appeal
funded shelter beds, meals and house-parent support through the cool season.

Thank you to everyone who gave: the appeal has closed, and every gift and match has been put to
work in our partner shelters.`

const caregiverStory = `Caregivers, house parents and shelter staff are the people survivors see every day. This
campaign will fund trauma-informed care training for them across northern Thailand.

*Draft: details to be confirmed before launch.*`

/**
 * Inserts the demo catalogue. Takes any executor so the caller decides the transaction; run it
 * on an empty database (it inserts, never upserts).
 */
export async function seedCatalog(db: Executor, now = new Date()): Promise<void> {
  await db.insert(fiscalPartners).values([
    {
      id: 'us',
      legalName: 'LIFT International',
      displayName: 'LIFT International',
      country: 'US',
      currency: 'USD',
      // Demo placeholders, obviously fake: an admin replaces them with the real registrations
      // before any receipt is issued.
      registrationNumbers: { ein: '00-0000000', note: 'DEMO: 501(c)(3) EIN placeholder' },
      receiptPrefix: 'US',
      isHome: true,
      feePolicy: 'designation',
    },
    {
      id: 'uk',
      legalName: 'LIFT International UK',
      displayName: 'LIFT International UK',
      country: 'GB',
      currency: 'GBP',
      registrationNumbers: { charityNumber: 'DEMO-0000000', hmrcReference: 'DEMO-XX00000', note: 'DEMO: registered charity placeholders' },
      receiptPrefix: 'UK',
      feePolicy: 'designation',
    },
    {
      id: 'nz',
      legalName: 'LIFT International New Zealand',
      displayName: 'LIFT International New Zealand',
      country: 'NZ',
      currency: 'NZD',
      registrationNumbers: { charitiesServicesNumber: 'DEMO-CC00000', irdNumber: 'DEMO-000-000-000', note: 'DEMO: registered charity placeholders' },
      receiptPrefix: 'NZ',
      feePolicy: 'designation',
    },
  ])

  await db.insert(fiscalPartnerFees).values(
    Object.entries(feeEstimates).flatMap(([fiscalPartnerId, byCurrency]) =>
      Object.entries(byCurrency).map(([currency, fee]) => ({ fiscalPartnerId, currency, ...fee })),
    ),
  )

  await db.insert(designations).values([
    {
      id: 'love-packs',
      name: 'Love Packs',
      description: 'Care packs of clothes, toiletries and personal things for survivors in their first hours of freedom.',
      restricted: true,
      sortOrder: 1,
    },
    {
      id: 'survivor-fund',
      name: 'Survivor Fund',
      description: 'Cash grants for education, livelihood and emergencies as survivors rebuild their lives.',
      restricted: true,
      sortOrder: 2,
    },
    {
      id: 'caregiver-training',
      name: 'Caregiver training',
      description: 'Trauma-informed training for the caregivers and shelter staff who support survivors.',
      restricted: true,
      sortOrder: 3,
    },
    {
      id: 'unrestricted',
      name: "Where it's needed most",
      description: "Lets LIFT put your gift wherever survivors' needs are greatest right now.",
      restricted: false,
      sortOrder: 4,
    },
  ])

  const [odw] = await db
    .insert(partnerOrganisations)
    .values({ slug: 'one-days-wages', name: "One Day's Wages", websiteUrl: 'https://www.onedayswages.org' })
    .returning({ id: partnerOrganisations.id })

  const live = { startsAt: daysFrom(now, -14), endsAt: daysFrom(now, 30) }
  const closed = { startsAt: daysFrom(now, -110), endsAt: daysFrom(now, -60) }
  const draft = { startsAt: daysFrom(now, 30), endsAt: daysFrom(now, 75) }
  const created = await db
    .insert(campaigns)
    .values([
      {
        slug: 'aftercare-thailand',
        title: 'Aftercare for Survivors of Trafficking in Thailand',
        summary: "Love Packs, Survivor Fund grants and caregiver training, with every gift matched by One Day's Wages.",
        storyMarkdown: aftercareStory,
        currency: 'USD',
        donorTargetMinor: 1_500_000,
        status: 'live',
        defaultDesignationId: 'survivor-fund',
        ...live,
      },
      {
        slug: 'safe-homes-winter-appeal',
        title: 'Safe Homes Winter Appeal',
        summary: 'Shelter beds, meals and house-parent support for survivors through the cool season.',
        storyMarkdown: winterStory,
        currency: 'USD',
        donorTargetMinor: 500_000,
        status: 'closed',
        defaultDesignationId: 'unrestricted',
        ...closed,
      },
      {
        slug: 'caregiver-training-2026',
        title: 'Train a Caregiver',
        summary: 'Trauma-informed care training for shelter staff in northern Thailand.',
        storyMarkdown: caregiverStory,
        currency: 'USD',
        donorTargetMinor: 1_000_000,
        status: 'draft',
        defaultDesignationId: 'caregiver-training',
        ...draft,
      },
    ])
    .returning({ id: campaigns.id, slug: campaigns.slug })
  const idOf = (slug: string) => created.find((c) => c.slug === slug)!.id

  await db.insert(matchPledges).values([
    {
      campaignId: idOf('aftercare-thailand'),
      partnerOrganisationId: odw!.id,
      fiscalPartnerId: 'us',
      currency: 'USD',
      capMinor: 1_500_000,
      ratioNum: 1,
      ratioDen: 1,
      priority: 1,
      leftoverPolicy: 'return',
      ...live,
    },
    {
      campaignId: idOf('safe-homes-winter-appeal'),
      partnerOrganisationId: odw!.id,
      fiscalPartnerId: 'us',
      currency: 'USD',
      capMinor: 500_000,
      ratioNum: 1,
      ratioDen: 1,
      priority: 1,
      leftoverPolicy: 'return',
      ...closed,
    },
  ])

  // Every campaign has exactly one totals row from the start; the ledger only ever updates it.
  await db.insert(campaignTotals).values(created.map(({ id }) => ({ campaignId: id })))

  const effectiveOn = now.toISOString().slice(0, 10)
  await db.insert(fxRates).values(demoRates.map(([base, quote, rate]) => ({ base, quote, rate, effectiveOn, source: 'demo' })))
}
