// Shared bits of accessible form markup: stable ids, an error linked to its input, and a summary
// that lists every problem with a link to the field (GOV.UK's pattern, which screen-reader users
// know).
import { forwardRef } from 'react'

export const fieldId = (form: string, field: string) => `${form}-${field}`
export const errorId = (form: string, field: string) => `${form}-${field}-error`

/** aria-* for an input: invalid when it has an error, described by its hint and its error. */
export function fieldAria(form: string, field: string, errors: Partial<Record<string, string>>, hintId?: string) {
  const invalid = Boolean(errors[field])
  const describedBy = [hintId, invalid ? errorId(form, field) : undefined].filter(Boolean).join(' ')
  return {
    'aria-invalid': invalid || undefined,
    'aria-describedby': describedBy || undefined,
  } as const
}

export function FieldError({ form, field, errors }: { form: string; field: string; errors: Partial<Record<string, string>> }) {
  const message = errors[field]
  if (!message) return null
  return (
    <p className="field-error" id={errorId(form, field)}>
      {message}
    </p>
  )
}

export const ErrorSummary = forwardRef<HTMLDivElement, { form: string; errors: Partial<Record<string, string>> }>(function ErrorSummary(
  { form, errors },
  ref,
) {
  const entries = Object.entries(errors).filter((entry): entry is [string, string] => Boolean(entry[1]))
  if (entries.length === 0) return null
  return (
    <div className="error-summary" role="alert" tabIndex={-1} ref={ref}>
      <h3 className="error-summary__title">{entries.length === 1 ? 'Please check one answer' : `Please check ${entries.length} answers`}</h3>
      <ul>
        {entries.map(([field, message]) => (
          <li key={field}>
            <a href={`#${fieldId(form, field)}`}>{message}</a>
          </li>
        ))}
      </ul>
    </div>
  )
})
