/**
 * The result bundle: a directory with the workload (credentials redacted), the environment,
 * one JSON file and two .hgrm files per point, summary.json and report.html.
 *
 *   workload.yaml  environment.json  summary.json  report.html
 *   points/<point>.json  points/<point>.e2e.hgrm  points/<point>.done.hgrm
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isMap, parseDocument } from 'yaml'
import { BenchError } from './errors.ts'
import type { BenchSummary, PointResult } from './results.ts'

/** A bundle as read back: the summary and every point's result. */
export interface Bundle {
  dir: string
  summary: BenchSummary
  points: PointResult[]
}

/** A file name for a point (names may hold `=` and `,` from dimensions). */
export function pointFile(name: string): string {
  return name.replace(/[^a-zA-Z0-9._=-]/g, '_')
}

export function writeWorkload(dir: string, source: string): void {
  mkdirSync(join(dir, 'points'), { recursive: true })
  writeFileSync(join(dir, 'workload.yaml'), redact(source))
}

export function writeSummary(dir: string, summary: BenchSummary): void {
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
  writeFileSync(join(dir, 'environment.json'), `${JSON.stringify(summary.environment, null, 2)}\n`)
}

export function writePoint(dir: string, result: PointResult): void {
  const base = join(dir, 'points', pointFile(result.name))
  const { histograms, ...figures } = result
  writeFileSync(`${base}.json`, `${JSON.stringify(figures, null, 2)}\n`)
  writeFileSync(`${base}.e2e.hgrm`, histograms.endToEnd)
  writeFileSync(`${base}.done.hgrm`, histograms.publishToDone)
}

/** Reads a result directory back (BENCH_BUNDLE_INVALID when it is not one). */
export function readBundle(dir: string): Bundle {
  const summaryFile = join(dir, 'summary.json')
  if (!existsSync(summaryFile)) {
    throw new BenchError(
      'BENCH_BUNDLE_INVALID',
      `${dir} is not a bench result directory: ${summaryFile} is missing`,
    )
  }
  try {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as BenchSummary
    const points = summary.points
      .filter((name) => existsSync(join(dir, 'points', `${pointFile(name)}.json`)))
      .map((name) => {
        const base = join(dir, 'points', pointFile(name))
        const figures = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Omit<PointResult, 'histograms'>
        return {
          ...figures,
          histograms: {
            endToEnd: readFileSync(`${base}.e2e.hgrm`, 'utf8'),
            publishToDone: readFileSync(`${base}.done.hgrm`, 'utf8'),
          },
        }
      })
    return { dir, summary, points }
  } catch (error) {
    throw new BenchError(
      'BENCH_BUNDLE_INVALID',
      `${dir}: cannot read the bundle (${(error as Error).message})`,
      {
        cause: error,
      },
    )
  }
}

/**
 * A point's configuration as results show it (point JSON, summary, report): its target's SASL
 * username and password replaced by `<redacted>`, like the bundle's workload.yaml.
 */
export function redactConfig<C extends { target: unknown }>(config: C): C {
  const target = config.target as { sasl?: object } | string
  if (typeof target !== 'object' || target === null || !target.sasl) return config
  return {
    ...config,
    target: { ...target, sasl: { ...target.sasl, username: '<redacted>', password: '<redacted>' } },
  }
}

/** The workload text without SASL credentials or TLS key material. */
export function redact(source: string): string {
  const doc = parseDocument(source)
  let changed = false
  const scrub = (node: unknown): void => {
    if (!isMap(node)) return
    for (const pair of node.items) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key)
      if (['password', 'username', 'key', 'cert', 'passphrase', 'pfx'].includes(key)) {
        pair.value = doc.createNode('<redacted>')
        changed = true
      } else scrub(pair.value)
    }
  }
  scrub(doc.contents)
  return changed ? doc.toString() : source
}
