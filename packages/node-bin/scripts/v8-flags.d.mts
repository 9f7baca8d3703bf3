/** The V8 flags built into the executable: see v8-flags.mjs. */
export const EXEC_ARGV: readonly string[]
