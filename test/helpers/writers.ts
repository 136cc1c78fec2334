import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Runs `count` Node processes at once, each a tracker from the built package writing to `outputDir` with
 * the given options (`writer` is its index, 0 … count-1) and then running `body` (`t` is the tracker);
 * resolves when all exited 0.
 */
export async function runTrackerProcesses(
  count: number,
  outputDir: string,
  options: string,
  body = 'await t.start()\nawait t.stop()',
): Promise<void> {
  const index = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
  const script = `
    const { EmissionsTracker } = await import(${JSON.stringify(index)})
    const writer = process.argv[1]
    const t = new EmissionsTracker({ outputDir: ${JSON.stringify(outputDir)}, sampling: 'inline',
      logLevel: 'silent', carbonIntensityGPerKWh: 100, ${options} })
    ${body}
  `
  await Promise.all(
    Array.from(
      { length: count },
      (_, n) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(n)], {
            stdio: 'inherit',
          })
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`writer ${n} exited ${code}`)),
          )
        }),
    ),
  )
}
