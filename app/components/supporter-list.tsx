export interface SupporterItem {
  /** Already reduced on the server to "Ada L." or "Anonymous". */
  name: string
  amount: string
  when: string
}

export function SupporterList({ supporters }: { supporters: SupporterItem[] }) {
  return (
    <section className="supporters" aria-labelledby="supporters-heading">
      <h2 id="supporters-heading">Recent supporters</h2>
      {supporters.length === 0 ? (
        <p className="supporters__empty">Be the first to give to this campaign.</p>
      ) : (
        <ul className="supporters__list">
          {supporters.map((s, index) => (
            <li key={index}>
              <span className="supporters__name">{s.name}</span>
              <span className="supporters__amount">{s.amount}</span>
              <span className="supporters__when">{s.when}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
