/**
 * The segment reducers, where segment code looks for them: they live with the lane reducer in
 * src/processing/routing/reducers.ts, beside the one routing function lanes and segments share.
 */
export { defaultSegmentReducer, karafkaReducer } from '../processing/routing/reducers.ts'
