import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ACCEL_STUBS } from './helpers/accel.mjs'
import { NVML_STUB_LIBRARY } from './helpers/gpu.mjs'

/**
 * Builds dist/ once before the tests (without type declarations, for speed): the worker sampler runs the
 * built dist/worker.js, and child-process tests run the built package as users get it.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../node_modules/tsup/dist/cli-default.js', import.meta.url)), '--silent'],
    {
      cwd: root,
      env: { ...process.env, WATTPRINT_BUILD_DTS: '0' },
      stdio: 'inherit',
    },
  )
  // The stub NVML library the GPU tests load through koffi, as wattprint would load the real one.
  // So are the stub amdsmi, ROCm SMI and Level Zero libraries.
  mkdirSync(fileURLToPath(new URL('./fixtures/.build/', import.meta.url)), { recursive: true })
  const stubs = [{ source: 'nvml-stub.c', library: NVML_STUB_LIBRARY }, ...Object.values(ACCEL_STUBS)]
  for (const { source, library } of stubs) {
    execFileSync(
      'cc',
      [
        '-shared',
        '-fPIC',
        '-O2',
        '-Wall',
        '-pthread',
        '-o',
        library,
        fileURLToPath(new URL(`./fixtures/${source}`, import.meta.url)),
      ],
      { stdio: 'inherit' },
    )
  }
}
