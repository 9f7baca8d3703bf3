// Module load hook (see stack-patches.mjs): patches the source of the files
// tcpCorkPatch names as they are loaded, and fails the load if it no longer applies.
import { fileURLToPath } from 'node:url'
import { applyPatch, tcpCorkPatch } from '../../../node-bin/scripts/snapshot-patches.mjs'

export async function load (url, context, nextLoad) {
  const loaded = await nextLoad(url, context)
  if (!url.startsWith('file:') || loaded.source == null) return loaded
  const path = fileURLToPath(url)
  if (!tcpCorkPatch.file.test(path)) return loaded
  return { ...loaded, source: applyPatch(tcpCorkPatch, Buffer.from(loaded.source).toString('utf8'), path) }
}
