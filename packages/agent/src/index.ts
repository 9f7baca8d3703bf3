export { Agent } from './agent.js'
export type { AgentInit, AgentRecord, AgentRequest, AgentEvents, Announcement } from './agent.js'
export { ANNOUNCE_TOPIC, CAPABILITIES, DEFAULT_ANNOUNCE_INTERVAL_MS } from './constants.js'
