// The body of a route's ErrorBoundary: one wording for "not found" (a 404 the loader threw) and
// another for anything else, with a way back. Each route says what is missing in its own words.
import { isRouteErrorResponse, Link, useRouteError } from '@remix-run/react'

interface Wording {
  title: string
  text: string
}

export function RouteError({ notFound, failed, back }: { notFound: Wording; failed: Wording; back: { to: string; label: string } }) {
  const error = useRouteError()
  const wording = isRouteErrorResponse(error) && error.status === 404 ? notFound : failed
  return (
    <section className="error-page">
      <h1>{wording.title}</h1>
      <p>{wording.text}</p>
      <p>
        <Link to={back.to}>{back.label}</Link>
      </p>
    </section>
  )
}
