/**
 * Short renderings of user-given values for error messages: a leaf module, so every layer that
 * validates input (app options, metrics options, the CLI) names what it got the same way.
 */
const MAX_STRING = 40
const MAX_ITEMS = 3

/** A short, single-line rendering of a value for error messages (never an object's contents). */
export function describeValue(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'string':
      return quote(value)
    case 'function':
      return '[function]'
    case 'symbol':
      return '[symbol]'
    case 'bigint':
      return `${value}n`
    case 'undefined':
      return 'undefined'
    case 'number':
    case 'boolean':
      return String(value)
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) {
    if (depth > 0) return `[…${value.length}]`
    const items = value.slice(0, MAX_ITEMS).map((v) => describeValue(v, depth + 1))
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more`)
    return `[${items.join(', ')}]`
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return '{…}'
  return `[${(value as object).constructor?.name ?? 'object'}]`
}

/** A string in double quotes, cut to 40 characters. */
export function quote(text: string): string {
  const cut = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text
  return JSON.stringify(cut)
}
