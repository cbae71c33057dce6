// Request-level rules every fake endpoint shares: Stripe's bracketed form encoding, `expand`,
// and list pagination. Kept strict, so a wrong expand path or parameter fails in tests the way it
// would fail against Stripe instead of silently returning something.
import type Stripe from 'stripe'
import { createdOrder, invalid, type AccountState, type FakeObject } from './state.ts'

export type Params = { [key: string]: ParamValue }
export type ParamValue = string | ParamValue[] | Params

/** `line_items[0][price_data][unit_amount]=5`, `expand[]=x` or `expand[0]=x` → nested objects and arrays. */
export function parseParams(search: URLSearchParams): Params {
  const root: Params = {}
  for (const [rawKey, value] of search) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey)
    if (!match) throw invalid(`Invalid parameter name: ${rawKey}`)
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)]
    let holder: Params = root
    for (let i = 0; i < path.length; i++) {
      let segment = path[i]!
      const last = i === path.length - 1
      if (segment === '') segment = String(Object.keys(holder).length) // `[]` appends
      if (last) {
        holder[segment] = value
      } else {
        const next = holder[segment]
        if (typeof next === 'string') throw invalid(`Invalid parameter: ${rawKey} mixes a value and a hash`)
        holder = (next as Params | undefined) ?? (holder[segment] = {})
      }
    }
  }
  return arrays(root) as Params
}

function arrays(value: ParamValue): ParamValue {
  if (typeof value === 'string' || Array.isArray(value)) return value
  const keys = Object.keys(value)
  const converted = Object.fromEntries(keys.map((k) => [k, arrays(value[k]!)]))
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => converted[k]!)
  }
  return converted
}

export function str(params: Params, key: string, param = key): string | undefined {
  const value = params[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw invalid(`Invalid string: ${param} must be a string`, param)
  return value
}

export function hash(params: Params, key: string, param = key): Params | undefined {
  const value = params[key]
  if (value === undefined || value === '') return undefined
  if (typeof value === 'string' || Array.isArray(value)) throw invalid(`Invalid object: ${param} must be a hash`, param)
  return value
}

export function int(params: Params, key: string, param = key): number | undefined {
  const value = str(params, key, param)
  if (value === undefined) return undefined
  if (!/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${value}`, param, 'parameter_invalid_integer')
  return Number(value)
}

export function expandPaths(params: Params): string[] {
  const value = params.expand
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map((item) => {
    if (typeof item !== 'string') throw invalid('Invalid array: expand must be an array of strings', 'expand')
    return item
  })
}

const optionalExpandable: Record<string, string[]> = {
  refund: ['failure_balance_transaction'],
  charge: ['transfer'],
}

/** Fields Stripe only includes when expanded (they are not on the stored object). */
export type Virtuals = (account: AccountState, object: FakeObject, field: string) => unknown

/** Returns a copy of `value` with each `expand` path resolved, like Stripe (at most 4 levels). */
export function expand<T>(account: AccountState, value: T, paths: string[], virtuals: Virtuals): T {
  const copy = structuredClone(value)
  for (const path of paths) {
    const segments = path.split('.')
    const depth = segments.filter((s, i) => !(i === 0 && s === 'data' && isList(copy))).length
    if (depth > 4) throw invalid(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand')
    expandInto(account, copy as Record<string, unknown>, segments, path, virtuals)
  }
  return copy
}

function isList(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { object?: unknown }).object === 'list'
}

function expandInto(account: AccountState, holder: Record<string, unknown>, segments: string[], path: string, virtuals: Virtuals) {
  const [head, ...rest] = segments
  if (!head) return
  if (!(head in holder)) {
    const type = String(holder.object)
    // Stripe leaves out some expandable fields until they apply (a refund's failure BT).
    if (optionalExpandable[type]?.includes(head)) return
    const virtual = 'object' in holder ? virtuals(account, holder as unknown as FakeObject, head) : undefined
    if (virtual === undefined) throw invalid(`This property cannot be expanded (${path}).`, 'expand')
    holder[head] = virtual
  }
  const resolve = (item: unknown): unknown => {
    if (typeof item === 'string') {
      const found = account.objects.get(item)
      if (!found) throw invalid(`This property cannot be expanded (${path}): the fake Stripe does not store '${item}'.`, 'expand')
      item = structuredClone(found)
    }
    if (rest.length > 0 && item && typeof item === 'object') expandInto(account, item as Record<string, unknown>, rest, path, virtuals)
    return item
  }
  const value = holder[head]
  if (Array.isArray(value)) holder[head] = value.map(resolve)
  else if (value !== null) holder[head] = resolve(value)
}

/** Stripe's list envelope with limit / starting_after / ending_before, newest first. */
export function list<T extends { id: string }>(url: string, items: T[], params: Params): Stripe.ApiList<T> {
  const limit = int(params, 'limit') ?? 10
  if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100', 'limit')
  let sorted = [...items].sort((a, b) => createdOrder(b.id) - createdOrder(a.id))
  const after = str(params, 'starting_after')
  const before = str(params, 'ending_before')
  if (after) sorted = sorted.slice(cursor(sorted, after, 'starting_after') + 1)
  if (before) sorted = sorted.slice(0, cursor(sorted, before, 'ending_before')).slice(-limit)
  return { object: 'list', data: sorted.slice(0, limit), has_more: sorted.length > limit, url }
}

function cursor(items: { id: string }[], id: string, param: string): number {
  const index = items.findIndex((item) => item.id === id)
  if (index < 0) throw invalid(`No such object: '${id}'`, param, 'resource_missing')
  return index
}
