/**
 * Attribute names of Stats items. Counter items (SK a scope) hold the counters below; histogram
 * items (SK `~H#<scope>`) hold the scope's latency histogram packed in one string
 * (HISTOGRAM_ATTRIBUTE). Names are short because a write costs the item's size.
 */
export const STATS_ATTRIBUTE = {
  total: 'n',
  status: (status: string) => `s_${status}`,
  code: (code: string) => `c_${code}`,
  durationSumCentis: 'dsum_c',
  durationMax: 'dmax',
  durationMin: 'dmin',
  /** Calls written to RequestLog (fewer than `n` when log sampling is on). */
  logged: 'lg',
  bytesIn: 'bin',
  bytesOut: 'bout',
  slow: 'slow',
  lastRequestAt: 'last',
  expiresAt: 'expires_at',
} as const;

/** Attributes of a histogram item (`~H#<scope>`). */
export const HISTOGRAM_ATTRIBUTE = {
  /** Calls the histogram holds (the sum of its bins; equals the counter item's `n`). */
  count: 'n',
  /** The bins, packed (core/stats/packedHistogram.ts): `z:3,-12:5,170:42`. */
  bins: 'b',
} as const;
