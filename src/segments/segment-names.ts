/** The Kafka group of segment `id` of group `origin`: `analytics` → `analytics-parallel-2`. */
export function segmentGroupName(origin: string, mergeKey: string, id: number): string {
  return `${origin}${mergeKey}${id}`
}
