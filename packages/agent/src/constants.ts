/** The gossipsub topic on which agents announce themselves. */
export const ANNOUNCE_TOPIC = 'agent-announcements'
/** How often an agent announces itself and runs discover, ms. */
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 5_000
/** What every agent of this example can answer. */
export const CAPABILITIES = ['ping', 'echo', 'capabilities'] as const
