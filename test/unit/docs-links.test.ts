// Everything the README and docs/ point users to is in the repository: a relative link (or a
// relative path in backticks) that leaves the repository or names a missing file fails here.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'

const repo = resolve(import.meta.dirname, '../..')

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownFiles(join(dir, entry.name))
      : entry.name.endsWith('.md')
        ? [join(dir, entry.name)]
        : [],
  )
}

const documents = [join(repo, 'README.md'), ...markdownFiles(join(repo, 'docs'))]

test('relative links and paths in README.md and docs/ name files inside the repository', () => {
  const problems: string[] = []
  for (const doc of documents) {
    const text = readFileSync(doc, 'utf8')
    const targets = [
      ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t)),
      ...[...text.matchAll(/`(\.\.?\/[^`\s]+)`/g)].map((m) => m[1]!),
    ]
    for (const target of targets) {
      const path = target.split('#')[0]!
      if (path === '') continue // an anchor in the same document
      const file = resolve(dirname(doc), path)
      const where = `${relative(repo, doc)}: ${target}`
      if (relative(repo, file).startsWith('..')) problems.push(`${where} leaves the repository`)
      else if (!existsSync(file)) problems.push(`${where} does not exist`)
    }
  }
  assert.deepEqual(problems, [])
})
