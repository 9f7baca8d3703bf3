// Loaded with --import into the in-process reference host: applies to its
// dependencies the speed patches the executable is built with (referencePatches
// in packages/node-bin/scripts/snapshot-patches.mjs), so that both sides of the
// comparison run the same stack. The hook runs in this thread (registerHooks)
// rather than on a hook thread of its own (module.register), so the reference
// runs no thread the executable does not.
import { registerHooks } from 'node:module'
import { fileURLToPath } from 'node:url'
import { applyPatch, referencePatches } from '../../../node-bin/scripts/snapshot-patches.mjs'

registerHooks({
  load (url, context, nextLoad) {
    const loaded = nextLoad(url, context)
    if (!url.startsWith('file:') || loaded.source == null) return loaded
    const path = fileURLToPath(url)
    const patch = referencePatches.find(({ file }) => file.test(path))
    if (patch === undefined) return loaded
    return { ...loaded, source: applyPatch(patch, Buffer.from(loaded.source).toString('utf8'), path) }
  }
})
