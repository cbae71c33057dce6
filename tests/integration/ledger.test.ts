// The allocation ledger on real Postgres: what each event posts (ledger.md §2), that a replay is
// a no-op and a conflicting replay an error, that the database itself refuses to let the books
// break (§4), and the balance queries finance reads, as of any date (§5).
import { eq, sql } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import {
  getAccountBalances,
  getBalance,
  getCampaignBalances,
  getDesignationBalances,
  getPartnerReceivables,
} from '#app/models/ledger-balances.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { InsufficientFundsError, postRedesignation, postRelease } from '#app/models/ledger-funds.server.ts'
import {
  LedgerError,
  postEntry,
  postGift,
  postMatch,
  postMatchPayment,
  postPayout,
  postReversal,
  postStripeOther,
} from '#app/models/ledger.server.ts'
import { db } from '#app/utils/db.server.ts'
import { fiscalPartners } from '#db/schema/catalog.ts'
import { databaseRejection } from '#tests/db-errors.ts'
import { chargeBalance, countRows, createCampaign, createCatalog, createDonation, nextBalanceId } from '#tests/factories.ts'
import {
  dispute,
  donationOf,
  entriesOf,
  entryBy,
  expectLedgerClean,
  postingsOf,
  refund,
  refundFacts,
  reinstatement,
  settle,
  totalsOf,
  withdrawal,
} from '#tests/gifts.ts'

const jan = new Date('2026-01-15T12:00:00Z')
const feb = new Date('2026-02-15T12:00:00Z')
const mar = new Date('2026-03-15T12:00:00Z')

async function setup(options: Parameters<typeof createCampaign>[0] = {}) {
  const catalog = await createCatalog()
  const { campaign, pledges } = await createCampaign(options)
  return { ...catalog, campaign, pledges }
}

/** The gift entry for a donation, with its postings. */
async function giftEntry(donationId: string) {
  const entry = (await entriesOf(donationId)).find((e) => e.kind === 'gift')!
  return { entry, postings: await postingsOf(entry.id) }
}

describe('postings per event', () => {
  test('a gift posts the net to Stripe, the fee to the fund, the gross as the gift; the match is its own entry', async () => {
    const { campaign, pledges } = await setup()
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, designationId: 'love-packs' })
    await settle(donation.id, 10_000, { feeMinor: 320, balanceId: 'txn_gift_1' })

    const entry = (await entryBy('gift', 'txn_gift_1'))!
    expect(entry).toMatchObject({ fiscalPartnerId: 'us', currency: 'USD', campaignId: campaign.id, donationId: donation.id, campaignValueMinor: 10_000 })
    expect(await postingsOf(entry.id)).toEqual({
      'assets:stripe': 9_680,
      'funds:love-packs:fees': 320,
      'funds:love-packs:gifts': -10_000,
    })
    const match = (await entryBy('match', `match:${pledges[0]!.id}:settle:${donation.id}`))!
    expect(match).toMatchObject({ fiscalPartnerId: 'us', currency: 'USD', campaignValueMinor: null })
    expect(await postingsOf(match.id)).toEqual({
      'assets:receivable:match:one-days-wages': 10_000,
      'funds:love-packs:match': -10_000,
    })
    await expectLedgerClean(db, { strict: true })
  })

  test("fee policy 'unrestricted': the fee is borne by unrestricted, so 100% reaches the designation", async () => {
    const { campaign } = await setup({ pledges: [] })
    await db.update(fiscalPartners).set({ feePolicy: 'unrestricted' }).where(eq(fiscalPartners.id, 'us'))
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, designationId: 'love-packs' })
    await settle(donation.id, 10_000, { feeMinor: 320 })
    expect((await giftEntry(donation.id)).postings).toEqual({
      'assets:stripe': 9_680,
      'funds:love-packs:gifts': -10_000,
      'funds:unrestricted:fees': 320,
    })
    const [loves] = (await getDesignationBalances(db)).filter((d) => d.designationId === 'love-packs')
    expect(loves!.balanceMinor).toBe(10_000)
  })

  test('a refund in the same currency: the fund pays it back, Stripe’s balance falls, no exchange line', async () => {
    const { campaign } = await setup({ pledges: [] })
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000 })
    await settle(donation.id, 10_000)
    await refund(donation.id, refundFacts('re_same', 2_500, { balanceId: 'txn_re_same' }))
    const entry = (await entryBy('refund', 'txn_re_same'))!
    expect(entry.campaignValueMinor).toBe(-2_500)
    expect(await postingsOf(entry.id)).toEqual({ 'assets:stripe': -2_500, 'funds:survivor-fund:refunds': 2_500 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 7_500 })
  })

  test('a card fee Stripe returns with a refund goes back to the fund that bore it, not to unrestricted', async () => {
    const { campaign } = await setup({ pledges: [] })
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, designationId: 'love-packs' })
    await settle(donation.id, 10_000, { feeMinor: 320 })
    const facts = refundFacts('re_fee_back', 10_000, { balanceId: 'txn_re_fee_back' })
    await refund(donation.id, { ...facts, balance: { ...facts.balance, feeMinor: -320, netMinor: -9_680 } })
    expect(await postingsOf((await entryBy('refund', 'txn_re_fee_back'))!.id)).toEqual({
      'assets:stripe': -9_680,
      'funds:love-packs:fees': -320,
      'funds:love-packs:refunds': 10_000,
    })
    // Nothing left anywhere: the designation is whole again and unrestricted never received it.
    const balances = Object.fromEntries((await getDesignationBalances(db)).map((d) => [d.designationId, d.balanceMinor]))
    expect(balances['love-packs'] ?? 0).toBe(0)
    expect(balances.unrestricted ?? 0).toBe(0)
  })

  test('a cross-currency refund: the fund moves at the gift’s recorded rate, Stripe as settled, the difference to unrestricted fx', async () => {
    const { campaign } = await setup({ pledges: [] })
    // A $100 gift from an American to the UK partner, settled in pounds at 0.79.
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, fiscalPartnerId: 'uk' })
    await settle(donation.id, 10_000, { currency: 'GBP', exchangeRate: '0.79', feeMinor: 259 })
    expect((await giftEntry(donation.id)).postings).toEqual({
      'assets:stripe': 7_641,
      'funds:survivor-fund:fees': 259,
      'funds:survivor-fund:gifts': -7_900,
    })
    // Half refunded in dollars; by then the pound has moved, so Stripe takes £40.00, not £39.50.
    await refund(donation.id, refundFacts('re_fx', 5_000, { settledMinor: 4_000, settlementCurrency: 'GBP', balanceId: 'txn_re_fx' }))
    const entry = (await entryBy('refund', 'txn_re_fx'))!
    expect(entry).toMatchObject({ fiscalPartnerId: 'uk', currency: 'GBP', campaignValueMinor: -5_000 })
    expect(await postingsOf(entry.id)).toEqual({
      'assets:stripe': -4_000,
      'funds:survivor-fund:refunds': 3_950,
      'funds:unrestricted:fx': 50,
    })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 5_000 })
    await expectLedgerClean()
  })

  test('a refund that fails posts the exact reverse of the refund, and the gift counts again', async () => {
    const { campaign } = await setup({ pledges: [] })
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, fiscalPartnerId: 'uk' })
    await settle(donation.id, 10_000, { currency: 'GBP', exchangeRate: '0.79' })
    const facts = refundFacts('re_fail', 5_000, { settledMinor: 4_000, settlementCurrency: 'GBP', balanceId: 'txn_re_fail' })
    await refund(donation.id, facts)
    await refund(donation.id, { ...facts, status: 'failed', failureBalance: { id: 'txn_re_fail_back', amountMinor: 4_000, feeMinor: 0, netMinor: 4_000, currency: 'GBP' } })
    const refunded = await postingsOf((await entryBy('refund', 'txn_re_fail'))!.id)
    const failure = (await entryBy('refund_failure', 'txn_re_fail_back'))!
    expect(await postingsOf(failure.id)).toEqual(Object.fromEntries(Object.entries(refunded).map(([k, v]) => [k, -v])))
    expect(failure.campaignValueMinor).toBe(5_000)
    expect(await donationOf(donation.id)).toMatchObject({ refundedMinor: 0, countedMinor: 10_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 10_000, donorsCount: 1 })
    await expectLedgerClean()
  })

  test('a dispute withdraws the amount plus a dispute fee borne by unrestricted; winning reinstates the amount', async () => {
    const { campaign } = await setup({ pledges: [] })
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 6_000, designationId: 'love-packs' })
    await settle(donation.id, 6_000)
    const out = withdrawal(6_000, { feeMinor: 1_500, id: 'txn_dp_out' })
    await dispute(donation.id, { id: 'dp_1', amountMinor: 6_000, status: 'needs_response', balances: [out] })
    expect(await postingsOf((await entryBy('dispute_withdrawal', 'txn_dp_out'))!.id)).toEqual({
      'assets:stripe': -7_500,
      'funds:love-packs:disputes': 6_000,
      'funds:unrestricted:fees': 1_500,
    })
    const back = reinstatement(6_000, { id: 'txn_dp_back' })
    await dispute(donation.id, { id: 'dp_1', amountMinor: 6_000, status: 'won', balances: [out, back] })
    const entry = (await entryBy('dispute_reinstatement', 'txn_dp_back'))!
    expect(await postingsOf(entry.id)).toEqual({ 'assets:stripe': 6_000, 'funds:love-packs:disputes': -6_000 })
    expect(entry.campaignValueMinor).toBe(6_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 6_000, donorsCount: 1 })
    await expectLedgerClean()
  })

  test('payouts: paid moves Stripe to the bank, failed moves it back', async () => {
    await createCatalog()
    const base = { payoutId: 'po_1', fiscalPartnerId: 'us', currency: 'USD', amountMinor: 50_000, effectiveAt: jan }
    const paid = await db.transaction((tx) => postPayout(tx, { ...base, kind: 'payout', balanceTransactionId: 'txn_po_1' }))
    const failed = await db.transaction((tx) => postPayout(tx, { ...base, kind: 'payout_failure', balanceTransactionId: 'txn_po_1_fail' }))
    expect(await postingsOf(paid.id)).toEqual({ 'assets:bank': 50_000, 'assets:stripe': -50_000 })
    expect(await postingsOf(failed.id)).toEqual({ 'assets:bank': -50_000, 'assets:stripe': 50_000 })
    expect(await getBalance(db, { prefix: 'assets:bank', fiscalPartnerId: 'us', currency: 'USD' })).toBe(0)
  })

  test('other Stripe balance transactions: a known fee is unrestricted’s, an unknown one waits in suspense (a warning, never dropped)', async () => {
    await createCatalog()
    const fee = { id: 'txn_radar', amountMinor: -500, feeMinor: 0, netMinor: -500, currency: 'USD' }
    const odd = { id: 'txn_odd', amountMinor: 1_234, feeMinor: 0, netMinor: 1_234, currency: 'USD' }
    const known = await db.transaction((tx) => postStripeOther(tx, { balance: fee, fiscalPartnerId: 'us', known: true, effectiveAt: jan, description: 'Radar fees' }))
    const unknown = await db.transaction((tx) => postStripeOther(tx, { balance: odd, fiscalPartnerId: 'us', known: false, effectiveAt: jan, description: 'adjustment' }))
    expect(await postingsOf(known.id)).toEqual({ 'assets:stripe': -500, 'funds:unrestricted:fees': 500 })
    expect(await postingsOf(unknown.id)).toEqual({ 'assets:stripe': 1_234, suspense: -1_234 })
    expect(await checkLedger(db)).toEqual([{ severity: 'warning', check: 'suspense', detail: 'us USD: -1234 minor units not yet attributed' }])
  })

  test('match earned, reversed and leftover post against the partner’s receivable; a payment settles it', async () => {
    const { campaign, pledges } = await setup()
    const context = { fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages', designationId: 'love-packs', campaignId: campaign.id, donationId: null, pledgeId: pledges[0]!.id }
    const earned = await db.transaction((tx) => postMatch(tx, { ...context, kind: 'match', matchKey: 'm1', amountMinor: 4_000, effectiveAt: jan }))
    const reversed = await db.transaction((tx) => postMatch(tx, { ...context, kind: 'match_reversal', matchKey: 'm2', amountMinor: -1_000, effectiveAt: feb }))
    const leftover = await db.transaction((tx) => postMatch(tx, { ...context, kind: 'match_leftover', matchKey: 'm3', amountMinor: 500, effectiveAt: feb }))
    expect(await postingsOf(earned.id)).toEqual({ 'assets:receivable:match:one-days-wages': 4_000, 'funds:love-packs:match': -4_000 })
    expect(await postingsOf(reversed.id)).toEqual({ 'assets:receivable:match:one-days-wages': -1_000, 'funds:love-packs:match': 1_000 })
    expect(await postingsOf(leftover.id)).toEqual({ 'assets:receivable:match:one-days-wages': 500, 'funds:love-packs:match': -500 })

    const paid = await db.transaction((tx) =>
      postMatchPayment(tx, { key: 'pay_1', fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages', amountMinor: 3_000, effectiveAt: mar, createdBy: 'finance@lift.org' }),
    )
    expect(await postingsOf(paid.id)).toEqual({ 'assets:bank': 3_000, 'assets:receivable:match:one-days-wages': -3_000 })
    expect(await getPartnerReceivables(db)).toEqual([
      { fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages', earnedMinor: 3_500, paidMinor: 3_000, outstandingMinor: 500 },
    ])
    expect(await getPartnerReceivables(db, { asOf: jan })).toEqual([
      { fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages', earnedMinor: 4_000, paidMinor: 0, outstandingMinor: 4_000 },
    ])
    await expect(
      db.transaction((tx) => postMatchPayment(tx, { key: 'pay_0', fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages', amountMinor: 0, effectiveAt: mar, createdBy: 'x' })),
    ).rejects.toThrow(LedgerError)
  })
})

describe('re-designation and release never take a fund negative', () => {
  async function fundWith(amountMinor: number) {
    const { campaign } = await setup({ pledges: [] })
    const donation = await createDonation({ campaignId: campaign.id, amountMinor, designationId: 'love-packs' })
    await settle(donation.id, amountMinor, { feeMinor: 0 })
  }

  test('finance moves money between funds with a reason and who did it', async () => {
    await fundWith(10_000)
    const moved = await db.transaction((tx) =>
      postRedesignation(tx, {
        key: 'redesignate-1', fiscalPartnerId: 'us', currency: 'USD', fromDesignationId: 'love-packs', toDesignationId: 'survivor-fund',
        amountMinor: 4_000, effectiveAt: new Date(), createdBy: 'finance@lift.org', reason: 'donor asked by phone',
      }),
    )
    expect(await postingsOf(moved.id)).toEqual({ 'funds:love-packs:transfers': 4_000, 'funds:survivor-fund:transfers': -4_000 })
    expect(await entryBy('redesignation', 'redesignate-1')).toMatchObject({ createdBy: 'finance@lift.org', reason: 'donor asked by phone' })
    const funds = Object.fromEntries((await getDesignationBalances(db)).map((d) => [d.designationId, d.balanceMinor]))
    expect(funds).toEqual({ 'love-packs': 6_000, 'survivor-fund': 4_000 })
  })

  test('a release spends from the fund; more than it holds is InsufficientFundsError and writes nothing', async () => {
    await fundWith(10_000)
    const release = { fiscalPartnerId: 'us', currency: 'USD', designationId: 'love-packs', effectiveAt: new Date(), createdBy: 'finance@lift.org', reason: '120 Love Packs delivered' }
    const spent = await db.transaction((tx) => postRelease(tx, { ...release, key: 'release-1', amountMinor: 7_000 }))
    expect(await postingsOf(spent.id)).toEqual({ 'assets:bank': -7_000, 'funds:love-packs:released': 7_000 })
    const before = await countRows('ledger_postings')
    await expect(db.transaction((tx) => postRelease(tx, { ...release, key: 'release-2', amountMinor: 3_001 }))).rejects.toThrow(InsufficientFundsError)
    await expect(
      db.transaction((tx) =>
        postRedesignation(tx, { ...release, key: 'move-2', fromDesignationId: 'love-packs', toDesignationId: 'unrestricted', amountMinor: 3_001 }),
      ),
    ).rejects.toThrow(/love-packs holds 3000 USD minor units at us; cannot move 3001/)
    expect(await countRows('ledger_postings')).toBe(before)
    expect(await entryBy('release', 'release-2')).toBeUndefined()
    // Exactly what is left can go; a replay of a posted release is answered from the entry, not today's balance.
    const rest = await db.transaction((tx) => postRelease(tx, { ...release, key: 'release-3', amountMinor: 3_000 }))
    expect(await db.transaction((tx) => postRelease(tx, { ...release, key: 'release-3', amountMinor: 3_000 }))).toEqual({ id: rest.id, created: false })
    expect((await getDesignationBalances(db)).find((d) => d.designationId === 'love-packs')!.balanceMinor).toBe(0)
    await expectLedgerClean(db, { strict: true })
  })

  test('concurrent releases from one fund cannot overdraw it together', async () => {
    await fundWith(10_000)
    const release = (key: string) =>
      db.transaction((tx) =>
        postRelease(tx, { key, fiscalPartnerId: 'us', currency: 'USD', designationId: 'love-packs', amountMinor: 4_000, effectiveAt: new Date(), createdBy: 'finance', reason: 'spent' }),
      )
    const results = await Promise.allSettled([release('r1'), release('r2'), release('r3')])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(InsufficientFundsError)])
    expect((await getDesignationBalances(db)).find((d) => d.designationId === 'love-packs')!.balanceMinor).toBe(2_000)
  })

  test('nonsense moves are refused before anything is written', async () => {
    await fundWith(10_000)
    const move = { key: 'm', fiscalPartnerId: 'us', currency: 'USD', fromDesignationId: 'love-packs', toDesignationId: 'love-packs', amountMinor: 100, effectiveAt: new Date(), createdBy: 'f', reason: 'r' }
    await expect(db.transaction((tx) => postRedesignation(tx, move))).rejects.toThrow(/two different designations/)
    await expect(db.transaction((tx) => postRedesignation(tx, { ...move, toDesignationId: 'unrestricted', amountMinor: -1 }))).rejects.toThrow(/positive/)
    await expect(db.transaction((tx) => postRelease(tx, { ...move, designationId: 'love-packs', amountMinor: 0 }))).rejects.toThrow(/positive/)
  })
})

describe('postEntry: one entry per source, replays and corrections', () => {
  const entry = (postings: { account: string; amountMinor: number }[], key = 'our-1') => ({
    kind: 'stripe_other' as const, sourceKey: key, fiscalPartnerId: 'us', currency: 'USD', effectiveAt: jan, postings,
  })

  test('a replay returns the same entry and writes nothing; a replay with different postings throws', async () => {
    await createCatalog()
    const postings = [{ account: 'assets:stripe', amountMinor: 100 }, { account: 'funds:unrestricted:fees', amountMinor: -100 }]
    const first = await db.transaction((tx) => postEntry(tx, entry(postings)))
    expect(first.created).toBe(true)
    // Same postings in another order, or split, is the same entry.
    const again = await db.transaction((tx) => postEntry(tx, entry([...postings].reverse())))
    const split = await db.transaction((tx) =>
      postEntry(tx, entry([{ account: 'assets:stripe', amountMinor: 60 }, { account: 'assets:stripe', amountMinor: 40 }, postings[1]!])),
    )
    expect(again).toEqual({ id: first.id, created: false })
    expect(split).toEqual({ id: first.id, created: false })
    expect(await countRows('ledger_entries')).toBe(1)
    expect(await countRows('ledger_postings')).toBe(2)
    await expect(
      db.transaction((tx) => postEntry(tx, entry([{ account: 'assets:stripe', amountMinor: 101 }, { account: 'funds:unrestricted:fees', amountMinor: -101 }]))),
    ).rejects.toThrow(/already posted with different postings/)
    await expect(db.transaction((tx) => postEntry(tx, { ...entry(postings), fiscalPartnerId: 'uk', currency: 'GBP' }))).rejects.toThrow(LedgerError)
  })

  test('an unbalanced or empty entry is refused before it reaches the database', async () => {
    await createCatalog()
    await expect(db.transaction((tx) => postEntry(tx, entry([{ account: 'assets:stripe', amountMinor: 100 }])))).rejects.toThrow(/does not balance/)
    await expect(db.transaction((tx) => postEntry(tx, entry([{ account: 'assets:stripe', amountMinor: 0 }])))).rejects.toThrow(/no postings/)
    await expect(db.transaction((tx) => postEntry(tx, entry([{ account: 'assets:stripe', amountMinor: 0.5 }, { account: 'suspense', amountMinor: -0.5 }])))).rejects.toThrow(/not an integer/)
    expect(await countRows('ledger_entries')).toBe(0)
  })

  test('postReversal posts the exact opposite, names the entry it corrects, and is itself idempotent', async () => {
    await createCatalog()
    const original = await db.transaction((tx) =>
      postMatchPayment(tx, { key: 'pay-typo', fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages', amountMinor: 9_000, effectiveAt: jan, createdBy: 'finance' }),
    )
    const correction = await db.transaction((tx) => postReversal(tx, { entryId: original.id, effectiveAt: feb, createdBy: 'finance@lift.org', reason: 'typed 9,000 for 900' }))
    expect(await postingsOf(correction.id)).toEqual({ 'assets:bank': -9_000, 'assets:receivable:match:one-days-wages': 9_000 })
    expect(await entryBy('correction', `reverses:${original.id}`)).toMatchObject({ id: correction.id, reversesEntryId: original.id, reason: 'typed 9,000 for 900', createdBy: 'finance@lift.org' })
    expect(await db.transaction((tx) => postReversal(tx, { entryId: original.id, effectiveAt: feb, createdBy: 'finance', reason: 'again' }))).toEqual({ id: correction.id, created: false })
    expect(await getBalance(db, { prefix: 'assets', fiscalPartnerId: 'us', currency: 'USD' })).toBe(0)
    expect(await getBalance(db, { prefix: 'assets', fiscalPartnerId: 'us', currency: 'USD', asOf: jan })).toBe(0)
    expect(await getBalance(db, { prefix: 'assets:bank', fiscalPartnerId: 'us', currency: 'USD', asOf: jan })).toBe(9_000)
    await expect(db.transaction((tx) => postReversal(tx, { entryId: 999_999, effectiveAt: feb, createdBy: 'f', reason: 'r' }))).rejects.toThrow(/does not exist/)
  })

  test('postReversal refuses entries that count toward a campaign, whose totals it would leave behind', async () => {
    const { campaign } = await setup()
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 4_000 })
    await settle(gift.id, 4_000)
    const before = await countRows('ledger_entries')
    for (const kind of ['gift', 'match'] as const) {
      const original = (await entriesOf(gift.id)).find((e) => e.kind === kind)
      await expect(db.transaction((tx) => postReversal(tx, { entryId: original!.id, effectiveAt: feb, createdBy: 'f', reason: 'r' }))).rejects.toThrow(/counts toward a campaign/)
    }
    expect(await countRows('ledger_entries')).toBe(before)
  })
})

describe('the database guards the books itself', () => {
  async function rawEntry(tx: Parameters<Parameters<typeof db.transaction>[0]>[0], key: string, scope = { partner: 'us', currency: 'USD' }) {
    const { rows } = await tx.execute<{ id: number }>(sql`
      insert into ledger_entries (fiscal_partner_id, currency, kind, source_key, effective_at)
      values (${scope.partner}, ${scope.currency}, 'stripe_other', ${key}, ${jan}) returning id`)
    return rows[0]!.id
  }
  const rawPosting = (tx: Parameters<typeof rawEntry>[0], entryId: number, account: string, amount: number, scope = { partner: 'us', currency: 'USD', at: jan }) =>
    tx.execute(sql`
      insert into ledger_postings (entry_id, fiscal_partner_id, currency, effective_at, account_id, amount_minor)
      values (${entryId}, ${scope.partner}, ${scope.currency}, ${scope.at}, ledger_account_id(${scope.partner}, ${scope.currency}, ${account}), ${amount})`)

  test('postings, entries and matches cannot be updated, deleted or truncated', async () => {
    const { campaign } = await setup()
    const donation = await createDonation({ campaignId: campaign.id })
    await settle(donation.id, 5_000)
    const before = { entries: await countRows('ledger_entries'), postings: await countRows('ledger_postings'), matches: await countRows('matches') }
    expect(before.matches).toBe(1)
    for (const table of ['ledger_postings', 'ledger_entries', 'matches', 'ledger_accounts']) {
      const column = table === 'ledger_postings' || table === 'matches' ? 'amount_minor' : table === 'ledger_entries' ? 'reason' : 'path'
      const value = column === 'amount_minor' ? sql`1` : sql`'funds:x'`
      expect(await databaseRejection(db.execute(sql`update ${sql.identifier(table)} set ${sql.identifier(column)} = ${value}`))).toMatch(/append-only: UPDATE is not allowed/)
      expect(await databaseRejection(db.execute(sql`delete from ${sql.identifier(table)}`))).toMatch(/append-only: DELETE is not allowed/)
      expect(await databaseRejection(db.execute(sql`truncate ${sql.identifier(table)} cascade`))).toMatch(/append-only: TRUNCATE is not allowed/)
    }
    expect({ entries: await countRows('ledger_entries'), postings: await countRows('ledger_postings'), matches: await countRows('matches') }).toEqual(before)
    await expectLedgerClean(db, { strict: true })
  })

  test('an unbalanced entry is rejected at commit, even when its postings arrive one by one', async () => {
    await createCatalog()
    await db.transaction(async (tx) => {
      const id = await rawEntry(tx, 'txn_ok')
      await rawPosting(tx, id, 'assets:stripe', 500)
      await rawPosting(tx, id, 'suspense', -500)
    })
    const message = await databaseRejection(
      db.transaction(async (tx) => {
        const id = await rawEntry(tx, 'txn_bad')
        await rawPosting(tx, id, 'assets:stripe', 500)
        await rawPosting(tx, id, 'suspense', -499)
      }),
    )
    expect(message).toMatch(/does not balance: its postings sum to 1/)
    // A posting added later to a committed entry is refused, alone or as a balanced pair.
    const ok = (await entryBy('stripe_other', 'txn_ok'))!
    expect(await databaseRejection(db.transaction((tx) => rawPosting(tx, ok.id, 'suspense', 7)))).toMatch(/was not posted by this transaction/)
    expect(await countRows('ledger_entries')).toBe(1)
  })

  test('a committed entry takes no more postings, even a balanced pair; its own transaction may add them, savepoints included', async () => {
    await createCatalog()
    await db.transaction(async (tx) => {
      const id = await rawEntry(tx, 'txn_history')
      await rawPosting(tx, id, 'funds:love-packs:gifts', -500)
      // Within a savepoint of the same transaction: still the entry's own transaction.
      await tx.transaction(async (savepoint) => rawPosting(savepoint, id, 'assets:stripe', 500))
    })
    const entry = (await entryBy('stripe_other', 'txn_history'))!
    const postings = await countRows('ledger_postings')
    // Moving restricted money inside history, without a new entry.
    const moved = databaseRejection(
      db.transaction(async (tx) => {
        await rawPosting(tx, entry.id, 'funds:love-packs:gifts', 7)
        await rawPosting(tx, entry.id, 'funds:unrestricted:gifts', -7)
      }),
    )
    expect(await moved).toMatch(/ledger entry \d+ was not posted by this transaction/)
    expect(await countRows('ledger_postings')).toBe(postings)
    await expectLedgerClean(db, { strict: true })
  })

  test('an entry without postings is rejected at commit', async () => {
    await createCatalog()
    expect(await databaseRejection(db.transaction((tx) => rawEntry(tx, 'txn_empty')))).toMatch(/has no postings/)
    expect(await countRows('ledger_entries')).toBe(0)
  })

  test('a posting on another fiscal partner’s or currency’s account, or at another date than its entry, is rejected', async () => {
    await createCatalog()
    // The entry is the US partner's, in dollars.
    const otherAccount = await db.execute<{ id: number }>(sql`select ledger_account_id('uk', 'GBP', 'assets:stripe') as id`)
    const ukAccount = otherAccount.rows[0]!.id
    const wrongAccount = databaseRejection(
      db.transaction(async (tx) => {
        const id = await rawEntry(tx, 'txn_cross')
        await tx.execute(sql`
          insert into ledger_postings (entry_id, fiscal_partner_id, currency, effective_at, account_id, amount_minor)
          values (${id}, 'us', 'USD', ${jan}, ${ukAccount}, 100)`)
      }),
    )
    expect(await wrongAccount).toMatch(/ledger_postings_account/)
    const wrongEntry = databaseRejection(
      db.transaction(async (tx) => {
        const id = await rawEntry(tx, 'txn_cross_2')
        await rawPosting(tx, id, 'assets:stripe', 100, { partner: 'uk', currency: 'GBP', at: jan })
      }),
    )
    expect(await wrongEntry).toMatch(/ledger_postings_entry/)
    const wrongDate = databaseRejection(
      db.transaction(async (tx) => {
        const id = await rawEntry(tx, 'txn_cross_3')
        await rawPosting(tx, id, 'assets:stripe', 100, { partner: 'us', currency: 'USD', at: feb })
      }),
    )
    expect(await wrongDate).toMatch(/ledger_postings_entry/)
    expect(await countRows('ledger_postings')).toBe(0)
  })

  test('one entry per (kind, source key), enforced by a unique index', async () => {
    await createCatalog()
    await db.transaction(async (tx) => {
      const id = await rawEntry(tx, 'txn_once')
      await rawPosting(tx, id, 'assets:stripe', 1)
      await rawPosting(tx, id, 'suspense', -1)
    })
    expect(await databaseRejection(db.transaction((tx) => rawEntry(tx, 'txn_once')))).toMatch(/ledger_entries_source/)
  })

  test('accounts are paths in a fixed shape, and a zero posting is refused', async () => {
    await createCatalog()
    expect(await databaseRejection(db.execute(sql`select ledger_account_id('us', 'USD', 'Funds:Love Packs')`))).toMatch(/ledger_accounts_path_shape/)
    const message = await databaseRejection(
      db.transaction(async (tx) => {
        const id = await rawEntry(tx, 'txn_zero')
        await rawPosting(tx, id, 'assets:stripe', 0)
      }),
    )
    expect(message).toMatch(/ledger_postings_nonzero/)
  })
})

describe('balances as of a date, per account, designation, partner and campaign', () => {
  test('each query sums only postings effective by the date asked', async () => {
    const { campaign, pledges } = await setup()
    const other = await createCampaign({ pledges: [] })
    const ctx = (campaignId: number, donationId: string, designationId: string) => ({
      fiscalPartnerId: 'us', designationId, feeDesignationId: designationId, campaignId, donationId,
    })
    const d1 = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, designationId: 'love-packs' })
    const d2 = await createDonation({ campaignId: other.campaign.id, amountMinor: 3_000, designationId: 'survivor-fund' })
    await db.transaction(async (tx) => {
      await postGift(tx, { ...ctx(campaign.id, d1.id, 'love-packs'), balance: chargeBalance(10_000, { feeMinor: 300 }), campaignValueMinor: 10_000, effectiveAt: jan })
      await postMatch(tx, {
        kind: 'match', pledgeId: pledges[0]!.id, matchKey: 'jan', fiscalPartnerId: 'us', currency: 'USD', partnerSlug: 'one-days-wages',
        designationId: 'love-packs', campaignId: campaign.id, donationId: d1.id, amountMinor: 10_000, effectiveAt: jan,
      })
      await postGift(tx, { ...ctx(other.campaign.id, d2.id, 'survivor-fund'), balance: chargeBalance(3_000, { feeMinor: 100 }), campaignValueMinor: 3_000, effectiveAt: feb })
      await postRelease(tx, { key: 'spend-mar', fiscalPartnerId: 'us', currency: 'USD', designationId: 'love-packs', amountMinor: 2_000, effectiveAt: mar, createdBy: 'finance', reason: 'Love Packs' })
      await postPayout(tx, { kind: 'payout', balanceTransactionId: nextBalanceId(), payoutId: 'po_feb', fiscalPartnerId: 'us', currency: 'USD', amountMinor: 5_000, effectiveAt: feb })
    })
    const us = { fiscalPartnerId: 'us', currency: 'USD' }

    // Per account (and prefix).
    expect(await getBalance(db, { ...us, prefix: 'assets:stripe', asOf: jan })).toBe(9_700)
    expect(await getBalance(db, { ...us, prefix: 'assets:stripe', asOf: feb })).toBe(9_700 + 2_900 - 5_000)
    expect(await getBalance(db, { ...us, prefix: 'assets:bank', asOf: new Date(feb.getTime() - 1) })).toBe(0)
    expect(await getBalance(db, { ...us, prefix: 'assets:bank' })).toBe(5_000 - 2_000)
    expect(await getBalance(db, { ...us, prefix: 'assets' })).toBe(9_700 + 2_900 - 5_000 + 5_000 - 2_000 + 10_000)
    const janAccounts = await getAccountBalances(db, 'assets', { ...us, asOf: jan })
    expect(Object.fromEntries(janAccounts.map((a) => [a.path, a.balanceMinor]))).toEqual({
      'assets:bank': 0, 'assets:receivable:match:one-days-wages': 10_000, 'assets:stripe': 9_700,
    })

    // Per designation: columns are the sub-accounts, credits positive.
    const byFund = async (asOf?: Date) =>
      Object.fromEntries((await getDesignationBalances(db, { ...us, asOf })).map((d) => [d.designationId, { balance: d.balanceMinor, parts: d.parts }]))
    expect(await byFund(jan)).toEqual({
      'love-packs': { balance: 19_700, parts: { gifts: 10_000, fees: -300, match: 10_000, released: 0 } },
      'survivor-fund': { balance: 0, parts: { gifts: 0, fees: 0 } },
    })
    expect(await byFund()).toEqual({
      'love-packs': { balance: 17_700, parts: { gifts: 10_000, fees: -300, match: 10_000, released: -2_000 } },
      'survivor-fund': { balance: 2_900, parts: { gifts: 3_000, fees: -100 } },
    })

    // Σ assets = Σ funds, at every date.
    for (const asOf of [jan, feb, mar]) {
      const assets = await getBalance(db, { ...us, prefix: 'assets', asOf })
      const funds = (await getDesignationBalances(db, { ...us, asOf })).reduce((s, d) => s + d.balanceMinor, 0)
      expect(assets).toBe(funds)
    }

    // Per partner and per campaign.
    expect((await getPartnerReceivables(db, { partnerSlug: 'one-days-wages' }))[0]).toMatchObject({ outstandingMinor: 10_000 })
    expect(await getPartnerReceivables(db, { asOf: new Date(jan.getTime() - 1) })).toEqual([])
    const lines = async (campaignId: number, asOf?: Date) =>
      Object.fromEntries((await getCampaignBalances(db, campaignId, { asOf })).map((l) => [l.path, l.balanceMinor]))
    expect(await lines(campaign.id)).toEqual({
      'assets:receivable:match:one-days-wages': 10_000, 'assets:stripe': 9_700,
      'funds:love-packs:fees': 300, 'funds:love-packs:gifts': -10_000, 'funds:love-packs:match': -10_000,
    })
    expect(await lines(other.campaign.id, jan)).toEqual({})
    expect(await lines(other.campaign.id, feb)).toEqual({ 'assets:stripe': 2_900, 'funds:survivor-fund:fees': 100, 'funds:survivor-fund:gifts': -3_000 })
  })
})

describe('replays racing the original', () => {
  test('a release retried while the first attempt is still committing is answered as a replay, not refused', async () => {
    const { campaign } = await setup({ pledges: [] })
    const donation = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, designationId: 'love-packs' })
    await settle(donation.id, 10_000, { feeMinor: 0 })
    const release = { key: 'release-all', fiscalPartnerId: 'us', currency: 'USD', designationId: 'love-packs', amountMinor: 10_000, effectiveAt: new Date(), createdBy: 'finance', reason: 'spent' }
    let retry: Promise<{ id: number; created: boolean }> | undefined
    const first = await db.transaction(async (tx) => {
      const posted = await postRelease(tx, release)
      // The same request again (a double submit) while this one holds the fund's lock.
      retry = db.transaction((other) => postRelease(other, release))
      await new Promise((resolve) => setTimeout(resolve, 200))
      return posted
    })
    expect(await retry).toEqual({ id: first.id, created: false })
    expect(await countRows('ledger_entries')).toBe(2)
  })
})
