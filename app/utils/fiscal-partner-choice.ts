// Which fiscal partner takes a gift: the donor's own country's, or the home entity. Pure and
// browser-safe, so the form can show the choice and the reason before anything is submitted.
export const partnerByCountry: Record<string, 'us' | 'uk' | 'nz'> = { US: 'us', GB: 'uk', NZ: 'nz' }
export const homePartnerId = 'us'

export type PartnerChoice = 'auto' | 'us' | 'uk' | 'nz'

export function choosePartner(country: string, choice: PartnerChoice = 'auto'): { partnerId: 'us' | 'uk' | 'nz'; reason: string } {
  if (choice !== 'auto') return { partnerId: choice, reason: 'you chose it' }
  const own = partnerByCountry[country]
  if (own) return { partnerId: own, reason: 'it is the LIFT charity registered in your country, which is what lets your gift count for tax there' }
  return { partnerId: homePartnerId, reason: 'LIFT has no entity in your country, so gifts go to LIFT International in the United States' }
}
