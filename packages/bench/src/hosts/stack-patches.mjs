// Loaded with --import into the in-process reference host: applies to its
// @libp2p/tcp the patch the executable is built with (tcpCorkPatch in
// packages/node-bin/scripts/snapshot-patches.mjs), so that both sides of the
// comparison run the same stack.
import { register } from 'node:module'

register('./stack-patches-loader.mjs', import.meta.url)
