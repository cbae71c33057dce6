// The campaign page in a real Chromium against the real server: the bar read as a screen reader
// would, checked against the database, the form with and without JavaScript, and screenshots at
// phone and desktop widths (tests/e2e/screenshots/, not committed).
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { formatMoney } from '#app/utils/money.ts'

const app = inject('app')
const slug = 'aftercare-thailand'
const screenshots = path.resolve('tests/e2e/screenshots')

describe.skipIf(!app)('campaign page in a browser', () => {
  let browser: Browser
  let database: pg.Client

  beforeAll(async () => {
    database = new pg.Client(app!.databaseUrl)
    await database.connect()
    // Until demo gifts are recorded through the ledger, a fresh database has an empty bar. Fill
    // this throw-away database's totals so the screenshots show a bar in use; every assertion
    // below reads the figures back from the database rather than trusting these numbers.
    await database.query(`
      update campaign_totals t set raised_gifts_minor = 612_550, matched_minor = 421_000, donors_count = 48, gifts_count = 61
      from campaigns c where c.id = t.campaign_id and c.slug = $1 and t.raised_gifts_minor = 0 and t.matched_minor = 0`, [slug])
    await database.query(`
      update match_pledges p set matched_minor = 421_000
      from campaigns c where c.id = p.campaign_id and c.slug = $1 and p.matched_minor = 0 and p.reserved_minor = 0`, [slug])
    browser = await chromium.launch({
      executablePath: app!.chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    })
    mkdirSync(screenshots, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await database?.end()
  })

  async function expected() {
    const { rows } = await database.query<{ raised: string; target: string; caps: string; donors: number; pledge_matched: string; pledge_cap: string }>(
      `select t.raised_gifts_minor + t.matched_minor as raised, c.donor_target_minor as target, t.donors_count as donors,
              (select sum(cap_minor) from match_pledges p where p.campaign_id = c.id) as caps,
              (select matched_minor from match_pledges p where p.campaign_id = c.id order by priority limit 1) as pledge_matched,
              (select cap_minor from match_pledges p where p.campaign_id = c.id order by priority limit 1) as pledge_cap
       from campaigns c join campaign_totals t on t.campaign_id = c.id where c.slug = $1`,
      [slug],
    )
    const row = rows[0]!
    return {
      raisedMinor: Number(row.raised),
      goalMinor: Number(row.target) + Number(row.caps),
      donors: row.donors,
      pledgeMatchedMinor: Number(row.pledge_matched),
      pledgeCapMinor: Number(row.pledge_cap),
    }
  }

  async function open(width: number, options: { javaScript?: boolean; path?: string } = {}) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: options.javaScript ?? true })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    const response = await page.goto(`${app!.baseUrl}${options.path ?? `/campaigns/${slug}`}`)
    // Never click a page React has not hydrated yet: the click would be a plain form post.
    if ((options.javaScript ?? true) && response?.ok()) await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' })
    return { page, response, errors, close: () => context.close() }
  }

  const amount = (minor: number) => formatMoney(minor, 'USD', { whole: true })

  test('the bar reads the totals from the database, and the page looks right on a phone and a desktop', async () => {
    const want = await expected()
    expect(want.goalMinor).toBe(3_000_000)
    for (const [name, width] of [
      ['phone', 390],
      ['desktop', 1280],
    ] as const) {
      const { page, errors, close } = await open(width)
      const bar = page.getByRole('progressbar', { name: /raised/ })
      expect(await bar.getAttribute('aria-valuemin')).toBe('0')
      expect(Number(await bar.getAttribute('aria-valuemax'))).toBe(want.goalMinor / 100)
      expect(Number(await bar.getAttribute('aria-valuenow'))).toBe(Math.min(want.raisedMinor, want.goalMinor) / 100)
      expect(await bar.getAttribute('aria-valuetext')).toContain(`${amount(want.raisedMinor)} raised of $30,000 goal`)
      const label = (await page.locator('#campaign-progress-label').innerText()).replace(/\s+/gu, ' ')
    expect(label).toBe(`${amount(want.raisedMinor)} raised of $30,000 goal`)

      const match = page.getByRole('progressbar', { name: /One Day's Wages/ })
      expect(await match.getAttribute('aria-valuetext')).toBe(`${amount(want.pledgeMatchedMinor)} of ${amount(want.pledgeCapMinor)} matched`)
      await expect.poll(() => page.locator('.match-fill__text').innerText()).toContain(`${amount(want.pledgeMatchedMinor)} of $15,000 matched`)
      expect(await page.locator('.campaign__stats').innerText()).toContain(`${want.donors} donors`)

      await page.getByText('How we count').click()
      expect(await page.locator('.how-we-count').innerText()).toMatch(/= Goal\s+\$30,000/)

      await page.screenshot({ path: path.join(screenshots, `campaign-${name}.png`), fullPage: true })
      expect(errors).toEqual([])
      await close()
    }
  })

  test('a bad custom amount shows its error next to the field, before any request', async () => {
    const { page, errors, close } = await open(390)
    await page.getByLabel('Other amount (USD)').fill('1.005')
    await page.getByRole('button', { name: 'Continue to payment' }).click()
    const field = page.locator('#donation-customAmount')
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true')
    expect(await field.getAttribute('aria-describedby')).toContain('donation-customAmount-error')
    expect(await page.locator('#donation-customAmount-error').innerText()).toContain('Use at most 2 digits after the dot.')
    expect(await page.getByRole('alert').innerText()).toContain('Use at most 2 digits after the dot.')
    await page.screenshot({ path: path.join(screenshots, 'campaign-form-errors-phone.png'), fullPage: true })
    expect(errors).toEqual([])
    await close()
  })

  test('an unknown campaign is a friendly 404 page', async () => {
    const { page, response, close } = await open(390, { path: '/campaigns/no-such-campaign' })
    expect(response?.status()).toBe(404)
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('We could not find that campaign')
    await close()
  })

  test('the home page lists the live campaign with its bar', async () => {
    const want = await expected()
    const { page, errors, close } = await open(1280, { path: '/' })
    const card = page.locator('.campaign-card', { hasText: 'Aftercare for Survivors of Trafficking in Thailand' })
    expect(Number(await card.getByRole('progressbar').getAttribute('aria-valuemax'))).toBe(want.goalMinor / 100)
    expect(await page.locator('.campaign-card').count()).toBe(1)
    await page.screenshot({ path: path.join(screenshots, 'home-desktop.png'), fullPage: true })
    expect(errors).toEqual([])
    await close()
  })

  test('a crawler (rendered in full before sending) and a person (streamed) both get the whole page', async () => {
    const get = (userAgent: string) => fetch(`${app!.baseUrl}/campaigns/${slug}`, { headers: { 'user-agent': userAgent } })
    const [crawler, person] = await Promise.all([
      get('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'),
      get('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'),
    ])
    for (const response of [crawler, person]) {
      expect(response.status).toBe(200)
      const html = await response.text()
      expect(html).toContain('role="progressbar"')
      expect(html).toContain('</html>')
      expect(html).toContain('window.__remixContext')
    }
  })
})
