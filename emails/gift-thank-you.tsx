// The donor's thank-you for a settled gift. It is an acknowledgement, not a tax receipt: the
// receipt is a separate document issued by the fiscal partner under its own country's rules
// (shared/receipts.md), so this email never carries receipt wording, numbers or match money as
// part of the donor's gift. Nor does it promise one: not every gift earns a receipt (an NZ gift
// under NZ$5, money from a third party), and in the UK the donor's record is a Gift Aid record.
// Plain, already formatted props in; no data fetching.
import { Body, Container, Head, Heading, Hr, Html, Link, Preview, Section, Text } from '@react-email/components'

export interface GiftThankYouProps {
  donorName: string
  /** What the donor chose to give, formatted with its ISO code: "$100.00 USD". */
  amount: string
  /** The donor-covered card fee and the total charged, when the donor covered the fee. */
  feeCovered: { fee: string; total: string } | null
  campaignTitle: string
  campaignUrl: string
  designation: string
  /** Each match partner and what it added, in the campaign's currency. */
  matches: { partner: string; amount: string }[]
  monthly: boolean
  /** 1 for a one-off gift and a monthly gift's first payment, then 2, 3 … */
  installment: number
  /** The legal entity that received the gift and will issue the receipt. */
  fiscalPartnerLegalName: string
  /** The day the payment settled, already formatted for the donor's partner country. */
  settledOn: string
  tribute: { type: 'honour' | 'memory'; name: string } | null
  anonymous: boolean
}

export function giftThankYouSubject(props: Pick<GiftThankYouProps, 'monthly' | 'installment' | 'campaignTitle'>): string {
  if (props.monthly && props.installment > 1) return `Thank you for this month's gift to ${props.campaignTitle}`
  return `Thank you for your ${props.monthly ? 'monthly ' : ''}gift to ${props.campaignTitle}`
}

export function GiftThankYou(props: GiftThankYouProps) {
  const firstName = props.donorName.trim().split(/\s+/)[0] || 'friend'
  const kind = props.monthly ? (props.installment > 1 ? `monthly gift (payment ${props.installment})` : 'first monthly gift') : 'gift'
  return (
    <Html lang="en">
      <Head />
      <Preview>{`Your ${kind} of ${props.amount} to ${props.campaignTitle} has arrived. Thank you.`}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Heading as="h1" style={heading}>
            {`Thank you, ${firstName}`}
          </Heading>
          <Text style={text}>
            {`Your ${kind} of `}
            <strong>{props.amount}</strong>
            {' to '}
            <strong>{props.campaignTitle}</strong>
            {` arrived on ${props.settledOn}. It goes to `}
            <strong>{props.designation}</strong>
            {props.tribute ? ` in ${props.tribute.type} of ${props.tribute.name}.` : '.'}
          </Text>
          {props.feeCovered ? (
            <Text style={text}>
              {`You also covered the card fee of ${props.feeCovered.fee}, so ${props.feeCovered.total} was charged in all.`}
            </Text>
          ) : null}
          {props.matches.length > 0 ? (
            <Section>
              {props.matches.map((m) => (
                <Text key={m.partner} style={match}>
                  {`${m.partner} added ${m.amount}.`}
                </Text>
              ))}
              <Text style={small}>Match funding is the partner&apos;s own gift, so it is never part of a tax receipt for your gift.</Text>
            </Section>
          ) : null}
          {props.monthly ? (
            <Text style={text}>
              {props.installment > 1
                ? 'Thank you for giving every month. We will thank you for each payment as it arrives.'
                : 'Thank you for choosing to give every month. We will thank you for each payment as it arrives.'}
            </Text>
          ) : null}
          {props.anonymous ? (
            <Text style={text}>As you asked, your name is not shown on the campaign page or to match partners.</Text>
          ) : null}
          <Text style={text}>
            <Link href={props.campaignUrl} style={link}>
              See how the campaign is going
            </Link>
          </Text>
          <Hr style={rule} />
          <Text style={notice}>
            {`This email is a thank-you, not a tax receipt. Your gift was received by ${props.fiscalPartnerLegalName}, which sends separately any tax receipt or Gift Aid record your gift qualifies for under its country's rules.`}
          </Text>
          <Text style={small}>LIFT International works to end human trafficking in Thailand.</Text>
        </Container>
      </Body>
    </Html>
  )
}

GiftThankYou.PreviewProps = {
  donorName: 'Ada Lovelace',
  amount: '$100.00 USD',
  feeCovered: { fee: '$3.50 USD', total: '$103.50 USD' },
  campaignTitle: 'Aftercare for Survivors of Trafficking in Thailand',
  campaignUrl: 'http://localhost:3000/campaigns/aftercare-thailand',
  designation: 'Survivor Fund',
  matches: [{ partner: "One Day's Wages", amount: '$100.00 USD' }],
  monthly: false,
  installment: 1,
  fiscalPartnerLegalName: 'LIFT International',
  settledOn: 'March 12, 2026',
  tribute: null,
  anonymous: false,
} satisfies GiftThankYouProps

export default GiftThankYou

const body = { backgroundColor: '#f4f1ea', fontFamily: 'Helvetica, Arial, sans-serif', color: '#1d2a2e', margin: 0, padding: '24px 0' }
const container = { backgroundColor: '#ffffff', maxWidth: '560px', margin: '0 auto', padding: '32px', borderRadius: '8px' }
const heading = { fontSize: '24px', lineHeight: '32px', color: '#163b45', margin: '0 0 16px' }
const text = { fontSize: '16px', lineHeight: '24px', margin: '0 0 16px' }
const match = { ...text, fontWeight: 'bold', color: '#163b45' }
const link = { color: '#163b45', textDecoration: 'underline' }
const rule = { borderColor: '#e3ddd0', margin: '24px 0' }
const notice = { fontSize: '14px', lineHeight: '20px', margin: '0 0 12px', color: '#1d2a2e' }
const small = { fontSize: '13px', lineHeight: '18px', margin: '0 0 12px', color: '#5b6b70' }
