// What the browser tests share: how Chromium is started, how a page is opened (waiting for React
// to hydrate before anything is clicked), how a donor fills the gift form, and how the bar is read.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

export const screenshots = path.resolve('tests/e2e/screenshots')

export async function launchChromium(executablePath: string): Promise<Browser> {
  mkdirSync(screenshots, { recursive: true })
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
}

/** A new context and page; browser errors are collected so a test can insist there were none. */
export async function openPage(browser: Browser, url: string, options: { width?: number; javaScript?: boolean } = {}) {
  const javaScript = options.javaScript ?? true
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, javaScriptEnabled: javaScript })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  const response = await page.goto(url)
  if (javaScript && response?.ok()) await waitForHydration(page)
  return { page, response, errors, javaScript, close: () => context.close() }
}

/** Never click a page React has not hydrated yet: the click would be a plain form post. */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' })
}

/** Does something that leads to another page and waits for it (and for React, when it runs). */
export async function go(tab: { page: Page; errors: string[]; javaScript: boolean }, action: () => Promise<unknown>, url: RegExp): Promise<void> {
  await Promise.all([tab.page.waitForURL(url), action()])
  if (!tab.javaScript) return
  await waitForHydration(tab.page).catch((error: unknown) => {
    // A page that never hydrates almost always threw in the browser: say what it threw.
    throw new Error(`${tab.page.url()} never hydrated (${String(error).split('\n')[0]}); browser errors: ${JSON.stringify(tab.errors)}`)
  })
}

export interface GiftAnswers {
  amount?: string
  name?: string
  email?: string
  country?: string
}

export async function fillValidForm(page: Page, answers: GiftAnswers = {}): Promise<void> {
  await page.getByLabel('Other amount (USD)').fill(answers.amount ?? '1,000.50')
  await page.getByLabel('Full name').fill(answers.name ?? 'Ada Lovelace')
  await page.getByLabel('Email').fill(answers.email ?? 'ada@example.org')
  await page.getByLabel('Country').selectOption(answers.country ?? 'GB')
}

/**
 * The campaign bar as a screen reader reads it: raised (gifts + match) and the partner's matched
 * fill, in cents. aria-valuenow carries the exact figure; the words beside the bar are rounded to
 * whole dollars.
 */
export async function readBar(page: Page): Promise<{ raisedMinor: number; matchedMinor: number }> {
  const raised = page.getByRole('progressbar', { name: /raised/ })
  const matched = page.getByRole('progressbar', { name: /One Day's Wages/ })
  const cents = async (bar: typeof raised) => {
    const [now, max] = await Promise.all([bar.getAttribute('aria-valuenow'), bar.getAttribute('aria-valuemax')])
    // At the goal the bar stops moving, and a delta could no longer be read from it.
    if (Number(now) >= Number(max)) throw new Error(`the bar is full (${now} of ${max}): deltas cannot be read`)
    return Math.round(Number(now) * 100)
  }
  return { raisedMinor: await cents(raised), matchedMinor: await cents(matched) }
}
