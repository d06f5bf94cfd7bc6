/** Where a field of a YAML document is written: zod issue paths mapped to lines. */
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml'

export interface Location {
  line: number
  column: number
  /** False when the field is not written: the location is its nearest written parent's. */
  exact: boolean
}

/**
 * The line and column of `path` in `doc`: a mapping entry's key, a list item's start. A path that
 * is not written resolves to the nearest written parent.
 */
export function locate(doc: Document, lines: LineCounter, path: ReadonlyArray<string | number>): Location {
  let node: unknown = doc.contents
  let offset = rangeStart(node) ?? 0
  for (const [i, step] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(step),
      )
      if (!pair) return at(lines, offset, false)
      offset = rangeStart(pair.key) ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof step === 'number' && node.items[step] !== undefined) {
      node = node.items[step]
      offset = rangeStart(node) ?? offset
    } else {
      return at(lines, offset, i === path.length)
    }
  }
  return at(lines, offset, true)
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0]
}

function at(lines: LineCounter, offset: number, exact: boolean): Location {
  const { line, col } = lines.linePos(offset)
  return { line, column: col, exact }
}
