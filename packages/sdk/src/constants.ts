/** How long start() waits for `ready`, ms. */
export const DEFAULT_START_TIMEOUT_MS = 10_000
/** How long a request waits for its reply when no timeout is given, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/** How long each step of stop() (shutdown command, stdin EOF, SIGTERM) waits for the child to exit, ms. */
export const DEFAULT_STOP_GRACE_MS = 2_000
/** Longest command line the node accepts by default (its --max-line-bytes), bytes. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024
/** How many bytes of the child's stderr are kept for error reports. */
export const STDERR_TAIL_BYTES = 8 * 1024
/** Longest event line read from the child's stdout, bytes. */
export const MAX_EVENT_LINE_BYTES = 64 * 1024 * 1024
/** Restart: attempts after an unexpected exit, before giving up. */
export const DEFAULT_RESTART_ATTEMPTS = 5
/** Restart: delay before the first attempt, ms; doubled after each failed attempt. */
export const DEFAULT_RESTART_DELAY_MS = 250
/** Restart: longest delay between attempts, ms. */
export const DEFAULT_RESTART_MAX_DELAY_MS = 10_000
/** Marks a direct message as part of request()/onRequest() traffic. */
export const RPC_TAG = 'p2p-node/rpc/1'
