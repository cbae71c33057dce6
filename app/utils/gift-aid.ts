// HMRC's model Gift Aid declaration wording (templates published 21 October 2015), stored with
// each declaration exactly as the donor saw it. Pure and browser-safe: the form shows the same text.
export const giftAidWordingVersion = 'hmrc-model-2015-10-21'

/** Gift Aid is claimed by the UK partner, on gifts to it in pounds (receipts.md §2). */
export const giftAidPartner = { fiscalPartnerId: 'uk', currency: 'GBP' } as const

export function giftAidApplies(fiscalPartnerId: string, currency: string): boolean {
  return fiscalPartnerId === giftAidPartner.fiscalPartnerId && currency === giftAidPartner.currency
}

export const giftAidHeader =
  'Boost your donation by 25p of Gift Aid for every £1 you donate. Gift Aid is reclaimed by the charity from the tax you pay for the current tax year. Your address is needed to identify you as a current UK taxpayer. In order to Gift Aid your donation you must tick the box below:'

/**
 * What the form says in place of the amount until it knows one (before the page's script runs, or
 * while the amount typed is not a valid one). The review page then shows the declaration as stored,
 * with the amount, before the donor pays.
 */
export const giftAidAmountNotYetKnown = 'the amount chosen above'

/**
 * The declaration sentence: a single gift, or this and future/past gifts (monthly giving). `amount`
 * is the whole payment: a card fee the donor chooses to cover is part of their gift.
 */
export function giftAidDeclaration({ scope, amount, charity }: { scope: 'single' | 'enduring'; amount: string; charity: string }): string {
  return scope === 'single'
    ? `I want to Gift Aid my donation of ${amount} to ${charity}. I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax in the current tax year than the amount of Gift Aid claimed on all my donations it is my responsibility to pay any difference.`
    : `I want to Gift Aid my donation of ${amount} and any donations I make in the future or have made in the past 4 years to ${charity}. I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax than the amount of Gift Aid claimed on all my donations in that tax year it is my responsibility to pay any difference.`
}

export function giftAidFooter(charity: string): string {
  return `Please notify ${charity} if you: want to cancel this declaration; change your name or home address; no longer pay sufficient tax on your income and/or capital gains. If you pay Income Tax at the higher or additional rate and want to receive the additional tax relief due to you, you must include all your Gift Aid donations on your Self-Assessment tax return or ask HM Revenue and Customs to adjust your tax code.`
}

/** UK postcodes, normalised to capitals with a single space (HMRC's claim schedule format). */
export function normalisePostcode(input: string): string | null {
  const compact = input.replace(/\s+/g, '').toUpperCase()
  if (!/^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$/.test(compact)) return null
  return `${compact.slice(0, -3)} ${compact.slice(-3)}`
}
