// Giving through the offline sandbox in a real Chromium against the real server: the form, the
// review (entity and match), the labelled sandbox checkout, the thank-you page waiting for the
// signed webhook, and the campaign bar moved by exactly the gift and its match. Once with
// JavaScript, once without, and once going back from checkout to the form with the answers kept;
// and a Gift Aid declaration recorded exactly as the donor was shown it.
// One server and one database serve the whole run, so every figure is a before/after delta.
import path from 'node:path'
import pg from 'pg'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { fillValidForm, go, launchChromium, openPage, readBar, screenshots, waitForHydration } from './support.ts'

const app = inject('app')
const slug = 'aftercare-thailand'

describe.skipIf(!app)('giving through the sandbox checkout', () => {
  let browser: Browser

  beforeAll(async () => {
    browser = await launchChromium(app!.chromiumPath)
  })

  afterAll(async () => {
    await browser?.close()
  })

  const campaignUrl = () => `${app!.baseUrl}/campaigns/${slug}`

  async function give(options: { javaScript: boolean; dollars: number; email: string; name: string }) {
    const { javaScript, dollars } = options
    const tab = await openPage(browser, campaignUrl(), { javaScript })
    const { page, errors, close } = tab
    const before = await readBar(page)

    await fillValidForm(page, { amount: String(dollars), name: options.name, email: options.email, country: 'US' })
    await go(tab, () => page.getByRole('button', { name: 'Continue to payment' }).click(), /\/donations\/[0-9a-f-]{36}\/review$/)

    // The review: the exact charge, the match reserved for it, and who receives it and why.
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Check your gift')
    const reviewText = await page.locator('.review').innerText()
    expect(reviewText).toContain(`Charged today\n$${dollars}.00`)
    expect(await page.locator('.review__matches').innerText()).toBe(`One Day's Wages will add $${dollars}.00.`)
    expect(reviewText).toContain('LIFT International, because it is the LIFT charity registered in your country, which is what lets your gift count for tax there')
    expect(reviewText).not.toContain('Only part of your gift can be matched')

    await go(tab, () => page.getByRole('link', { name: 'Continue to secure payment' }).click(), /\/sandbox\/checkout\/us\/cs_test_\w+$/)
    // Nobody could mistake the sandbox for a real payment page.
    expect(await page.getByRole('note').innerText()).toContain('Offline sandbox — no real money moves')
    expect(await page.locator('.sandbox-checkout table').innerText()).toContain(`Total\t$${dollars}.00`)
    await page.screenshot({ path: path.join(screenshots, `give-sandbox-${javaScript ? 'js' : 'nojs'}.png`), fullPage: true })

    await go(tab, () => page.getByRole('button', { name: 'Pay now (card succeeds)' }).click(), /\/donations\/[0-9a-f-]{36}\/thanks\?session_id=cs_test_\w+$/)
    // The webhook may land before or after this page first renders; either way it must settle.
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText(), { timeout: 30_000, interval: 500 }).toBe('Thank you')
    const thanks = await page.locator('.thanks').innerText()
    expect(thanks).not.toContain('Confirming')
    expect(thanks).toContain(`Your gift of $${dollars}.00 USD to Aftercare for Survivors of Trafficking in Thailand has arrived at LIFT International`)
    expect(await page.locator('.thanks__match').innerText()).toBe(`One Day's Wages added $${dollars}.00 USD.`)
    await page.screenshot({ path: path.join(screenshots, `give-thanks-${javaScript ? 'js' : 'nojs'}.png`), fullPage: true })

    await page.goto(campaignUrl())
    if (javaScript) await waitForHydration(page)
    const after = await readBar(page)
    // Raised counts the gift and its match; the match's own fill moves by the match alone.
    expect(after.raisedMinor - before.raisedMinor).toBe(dollars * 100 * 2)
    expect(after.matchedMinor - before.matchedMinor).toBe(dollars * 100)
    expect(errors).toEqual([])
    await close()
  }

  test('with JavaScript: form, review, sandbox checkout, thanks, and the bar moves by gift + match', async () => {
    await give({ javaScript: true, dollars: 37, name: 'Grace Hopper', email: 'grace.e2e@example.org' })
  })

  test('without JavaScript: the same flow works with plain forms and links', async () => {
    await give({ javaScript: false, dollars: 23, name: 'Katherine Johnson', email: 'katherine.e2e@example.org' })
  })

  test('going back from the checkout returns to the form with every answer kept, and moves nothing', async () => {
    const tab = await openPage(browser, campaignUrl())
    const { page, errors, close } = tab
    const before = await readBar(page)
    await fillValidForm(page, { amount: '41.50', name: 'Mary Jackson', email: 'mary.e2e@example.org', country: 'NZ' })
    await page.getByLabel('Love Packs').check()
    await page.getByLabel('In memory of').check()
    await page.getByLabel('Their name').fill('Dorothy Vaughan')
    await go(tab, () => page.getByRole('button', { name: 'Continue to payment' }).click(), /\/review$/)
    expect(await page.locator('.review').innerText()).toContain('LIFT International New Zealand, because it is the LIFT charity registered in your country')
    await go(tab, () => page.getByRole('link', { name: 'Continue to secure payment' }).click(), /\/sandbox\/checkout\/nz\//)

    await go(tab, () => page.getByRole('link', { name: '← Back' }).click(), /\/campaigns\/aftercare-thailand\?resume=[0-9a-f-]{36}#donate$/)
    expect(await page.getByLabel('Other amount (USD)').inputValue()).toBe('41.50')
    expect(await page.getByLabel('Full name').inputValue()).toBe('Mary Jackson')
    expect(await page.getByLabel('Email').inputValue()).toBe('mary.e2e@example.org')
    expect(await page.getByLabel('Country').inputValue()).toBe('NZ')
    expect(await page.getByLabel('Love Packs').isChecked()).toBe(true)
    expect(await page.getByLabel('In memory of').isChecked()).toBe(true)
    expect(await page.getByLabel('Their name').inputValue()).toBe('Dorothy Vaughan')
    await page.screenshot({ path: path.join(screenshots, 'give-resumed-form.png'), fullPage: true })
    expect(await readBar(page)).toEqual(before)
    expect(errors).toEqual([])
    await close()
  })

  test.each([true, false])('Gift Aid (JavaScript: %s): the declaration shown for the frequency chosen, fee covered, is the one recorded', async (javaScript) => {
    const tab = await openPage(browser, campaignUrl(), { javaScript })
    const { page, errors, close } = tab
    if (javaScript) await waitForHydration(page)
    await page.getByLabel('Currency').selectOption('GBP')
    await page.getByLabel(/^Other amount/).fill('25')
    await page.getByLabel('Full name').fill('Mary Seacole')
    await page.getByLabel('Email').fill(`mary.seacole.${javaScript}.e2e@example.org`)
    await page.getByLabel('Country').selectOption('GB')
    await page.getByLabel('Monthly').check()
    // The fee the donor covers is part of their gift, so the declaration names the whole payment:
    // £25.00 with the UK partner's 1.5% + 20p is £25.58.
    await page.getByLabel(/^Cover the card fee/).check()
    await page.locator('input[name="giftAid"]').check()
    for (const [label, value] of [['First name', 'Mary'], ['Surname', 'Seacole'], ['House name or number', '14'], ['Home address', 'Soho Square, London'], ['Postcode', 'W1D 3QG']]) {
      await page.getByLabel(label!, { exact: true }).fill(value!)
    }
    const shown = page.locator('.gift-aid__declaration:visible')
    await expect.poll(() => shown.count()).toBe(1)
    const sentence = await shown.innerText()
    const enduring = 'and any donations I make in the future or have made in the past 4 years to LIFT International UK.'
    // With the script the amount is read as it is typed; without, the review page shows it before payment.
    expect(sentence).toContain(javaScript ? `I want to Gift Aid my donation of £25.58 ${enduring}` : `I want to Gift Aid my donation of the amount chosen above ${enduring}`)

    await go(tab, () => page.getByRole('button', { name: 'Continue to payment' }).click(), /\/review$/)
    const donationId = /\/donations\/([0-9a-f-]{36})\/review$/.exec(page.url())![1]!
    const database = new pg.Client(app!.databaseUrl)
    await database.connect()
    try {
      const { rows } = await database.query<{ wording_text: string }>('select wording_text from gift_aid_declarations where donation_id = $1', [donationId])
      expect(rows).toHaveLength(1)
      expect(await page.locator('.review__gift-aid blockquote').innerText()).toBe(rows[0]!.wording_text)
      if (javaScript) expect(rows[0]!.wording_text).toBe(sentence)
      else expect(rows[0]!.wording_text).toBe(sentence.replace('the amount chosen above', '£25.58'))
    } finally {
      await database.end()
    }
    expect(errors).toEqual([])
    await close()
  })
})
