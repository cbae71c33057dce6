// What every email to a donor shares: the look, the greeting and the receiving partner's own
// statement. Plain props in; no data fetching.
import { Text } from '@react-email/components'

/** The legal entity that received the money: the donee, whose country's rules the email follows. */
export interface ReceivingPartner {
  legalName: string
  /** ISO 3166-1 alpha-2 country of the entity. */
  country: string
  /** A UK partner's registered charity number, printed as its charity-law statement. */
  charityNumber: string | null
}

export const firstNameOf = (donorName: string) => donorName.trim().split(/\s+/)[0] || 'friend'

/** Charities Act 2011 s.39: a UK registered charity says so on its letters and receipts. */
export function PartnerRegistration({ partner }: { partner: ReceivingPartner }) {
  return partner.charityNumber ? <Text style={small}>{`Registered charity number ${partner.charityNumber}`}</Text> : null
}

export const body = { backgroundColor: '#f4f1ea', fontFamily: 'Helvetica, Arial, sans-serif', color: '#1d2a2e', margin: 0, padding: '24px 0' }
export const container = { backgroundColor: '#ffffff', maxWidth: '560px', margin: '0 auto', padding: '32px', borderRadius: '8px' }
export const heading = { fontSize: '24px', lineHeight: '32px', color: '#163b45', margin: '0 0 16px' }
export const text = { fontSize: '16px', lineHeight: '24px', margin: '0 0 16px' }
export const match = { ...text, fontWeight: 'bold', color: '#163b45' }
export const link = { color: '#163b45', textDecoration: 'underline' }
export const rule = { borderColor: '#e3ddd0', margin: '24px 0' }
export const notice = { fontSize: '14px', lineHeight: '20px', margin: '0 0 12px', color: '#1d2a2e' }
export const small = { fontSize: '13px', lineHeight: '18px', margin: '0 0 12px', color: '#5b6b70' }
