/** How the no-op members of bench/share/app-throughput.ts process: continuous, unordered, as the app throughput bench. */
export const MEMBER_CONFIG = {
  style: 'continuous',
  ordering: 'unordered',
  capacity: 1000,
  maxPollRecords: 500,
} as const
