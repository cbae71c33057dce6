import type { LinksFunction } from '@remix-run/node'
import { isRouteErrorResponse, Link, Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteError } from '@remix-run/react'
import { useEffect, type ReactNode } from 'react'
import stylesHref from './styles/app.css'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: stylesHref },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
]

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="theme-color" content="#163b45" />
        <Meta />
        <Links />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="wrap site-header__inner">
            <Link to="/" className="brand">
              LIFT <span>International</span>
            </Link>
            <p className="site-header__tagline">Fighting human trafficking in Thailand</p>
          </div>
        </header>
        <main id="main" className="wrap">
          {children}
        </main>
        <footer className="site-footer">
          <div className="wrap">
            <p>
              LIFT International works to end human trafficking in Thailand: investigations, justice for survivors, and the aftercare that helps
              them rebuild their lives.
            </p>
            <p className="site-footer__small">Gifts are received by LIFT International (US), LIFT International UK and LIFT International New Zealand.</p>
            {/* The build's mode, fixed at compile time in both bundles, so hydration always agrees. */}
            {process.env.NODE_ENV === 'development' ? (
              <p className="site-footer__small">
                <Link to="/dev/outbox">Dev mail outbox</Link>
              </p>
            ) : null}
          </div>
        </footer>
        <HydrationFlag />
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  )
}

/** Marks the document once React has hydrated, so browser tests never click a dead page. */
function HydrationFlag() {
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true'
  }, [])
  return null
}

export default function App() {
  return <Outlet />
}

export function ErrorBoundary() {
  const error = useRouteError()
  const notFound = isRouteErrorResponse(error) && error.status === 404
  return (
    <section className="error-page">
      <h1>{notFound ? 'We could not find that page' : 'Something went wrong'}</h1>
      <p>
        {notFound
          ? 'The address may be mistyped, or the page may have moved.'
          : 'Sorry, this page could not be shown. Nothing you did caused this; please try again in a moment.'}
      </p>
      <p>
        <Link to="/">See our campaigns</Link>
      </p>
    </section>
  )
}
