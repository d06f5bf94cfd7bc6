import {
  type CollapsePlan,
  type CollapseStep,
  type ExactCollapseResult,
  planCollapse,
} from './exact-collapse.ts'
import { type GroupOffsets, type GroupPlan, planDistribute } from './plan.ts'

/**
 * reset: collapse, then distribute what the collapse gave the origin, planned (and validated) as
 * a whole before anything is written: Karafka applies its collapse and then fails in
 * distribute's check. Both phases' problems refuse it; --force writes both.
 */
export function planReset(
  group: GroupOffsets,
  steps: readonly CollapseStep[],
  results: ReadonlyMap<string, ExactCollapseResult>,
): GroupPlan & { collapse: CollapsePlan; distribute: GroupPlan } {
  const collapse = planCollapse(group, steps, results)
  const distribute = planDistribute(group, collapse.originAfter)
  return {
    origin: group.origin,
    writes: [...collapse.writes, ...distribute.writes],
    problems: [...collapse.problems, ...distribute.problems],
    notes: [...collapse.notes, ...distribute.notes],
    collapse,
    distribute,
  }
}
