import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  EmissionsTracker,
  jsonlSink,
  memorySink,
  type RequestRecord,
  type SampleEvent,
  type TrackerWarning,
  WattprintError,
} from '../src/index.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

// memorySink and jsonlSink on a real tracker: what they keep and write is what the tracker handed out,
// interval by interval, request by request, and the record tracker.stop() resolves with.

const tempDir = (): string => makeTempDir('wattprint-memory-jsonl-')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const base = {
  logLevel: 'silent' as const,
  carbonIntensityGPerKWh: 200,
  intervalMs: 50,
  sampling: 'inline' as const,
  saveToFile: false,
}

/** A tracker with `sinks`, and every sample, request and warning it emitted, as its listeners saw them. */
function tracked(options: ConstructorParameters<typeof EmissionsTracker>[0]) {
  const tracker = new EmissionsTracker({ ...base, ...options })
  const samples: SampleEvent[] = []
  const requests: RequestRecord[] = []
  const warnings: TrackerWarning[] = []
  tracker.on('sample', (s) => samples.push(s))
  tracker.on('request', (r) => requests.push(r))
  tracker.on('warning', (w) => warnings.push(w))
  onCleanup(() => void tracker.stop().catch(() => {}))
  return { tracker, samples, requests, warnings }
}

/** The file's lines, split at `\n` only (its last line ends with one). */
function linesOf(path: string): string[] {
  const text = readFileSync(path, 'utf8')
  expect(text.endsWith('\n')).toBe(true)
  return text.slice(0, -1).split('\n')
}

// Everything a terminal or a line splitter would act on or hide: C0 and C1 controls, bidi controls,
// zero-width characters, the line and paragraph separators, tag characters.
const HIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|\udb40[\udc00-\udc7f]/

describe('memorySink and jsonlSink on a real tracker', () => {
  it('keep and write every interval, request and the final record the tracker handed out', async () => {
    const dir = tempDir()
    const path = join(dir, 'deep', 'timeline.jsonl')
    const memory = memorySink()
    const jsonl = jsonlSink({ path })
    const { tracker, samples, requests, warnings } = tracked({
      projectName: 'sinks',
      experimentId: 'exp-1',
      runId: 'mem-1',
      pue: 1.2,
      sinks: [memory, jsonl],
    })
    expect(memory.state).toBe('idle')
    expect(memory.finalRecord).toBeUndefined()
    await tracker.start()
    expect(memory.state).toBe('running')
    expect(memory.run).toEqual({ projectName: 'sinks', experimentId: 'exp-1', runId: 'mem-1', pue: 1.2 })
    const spans = [tracker.request('/a'), tracker.request('/b'), tracker.request('/a')]
    await sleep(200)
    spans[0]?.end({ inputTokens: 3, outputTokens: 7 })
    spans[1]?.end({ failed: true })
    await sleep(200)
    spans[2]?.end({ items: 4 })
    const settled = await Promise.all(spans.map((s) => s.settled))
    await sleep(100)
    // While running, the final record is not there yet.
    expect(memory.finalRecord).toBeUndefined()
    expect(memory.records).toEqual([])
    const record = await tracker.stop()

    expect(warnings.filter((w) => w.code === 'SINK_FAILED')).toEqual([])
    expect(samples.length).toBeGreaterThanOrEqual(5)
    // The final record: the one stop() resolved with, the same object.
    expect(memory.state).toBe('stopped')
    expect(memory.finalRecord).toBe(record)
    expect(memory.records).toEqual([record])
    expect(memory.records[0]).toBe(record)
    expect(record.runId).toBe('mem-1')
    // Every interval, in order, each the very event the tracker emitted; none dropped.
    expect(memory.samples).toEqual(samples)
    for (const [i, s] of memory.samples.entries()) expect(s).toBe(samples[i])
    expect(memory.samples.map((s) => s.seq)).toEqual(samples.map((s) => s.seq))
    expect(memory.droppedSamples).toBe(0)
    // The samples are cumulative: energy and emissions never go down, and the record is at least the last.
    const energies = memory.samples.map((s) => s.energyKWh)
    expect(energies).toEqual([...energies].sort((a, b) => a - b))
    expect(energies.at(-1)).toBeGreaterThan(0)
    // (Summed another way: equal to the last to rounding when the final reading added nothing.)
    expect(record.energyKWh / (energies.at(-1) ?? Number.POSITIVE_INFINITY)).toBeGreaterThan(1 - 1e-9)
    // Every request record, as settled, in the order they settled.
    expect(memory.requests).toHaveLength(3)
    expect(memory.requests).toEqual(requests)
    expect(memory.requests).toEqual(expect.arrayContaining(settled))
    expect(memory.requests.filter((r) => r.failed).map((r) => r.name)).toEqual(['/b'])
    expect(memory.droppedRequests).toBe(0)

    // One JSON line per sample event, the same bytes as JSON.stringify of the event (what
    // `wattprint run --timeline` wrote before it was a sink), in order; nothing else.
    const lines = linesOf(path)
    expect(lines).toHaveLength(samples.length)
    expect(jsonl.lines).toBe(samples.length)
    expect(jsonl.failed).toBe(false)
    lines.forEach((line, i) => {
      expect(line).toBe(JSON.stringify(samples[i]))
      expect(JSON.parse(line)).toEqual(samples[i])
    })
  })

  it('keeps at most maxSamples intervals, the newest, and counts the oldest it dropped', async () => {
    const memory = memorySink({ maxSamples: 3, maxRequests: 2 })
    const unbounded = memorySink({ maxSamples: Number.POSITIVE_INFINITY })
    const none = memorySink({ maxSamples: 0 })
    const { tracker, samples } = tracked({ sinks: [memory, unbounded, none] })
    await tracker.start()
    const spans = Array.from({ length: 5 }, (_, i) => tracker.request(`/r${i}`))
    await sleep(100)
    for (const span of spans) span.end()
    const settled = await Promise.all(spans.map((s) => s.settled))
    await sleep(400)
    await tracker.stop()
    expect(samples.length).toBeGreaterThan(5)
    expect(memory.samples).toHaveLength(3)
    expect(memory.samples).toEqual(samples.slice(-3))
    expect(memory.droppedSamples).toBe(samples.length - 3)
    // The kept ones are oldest first, as they came.
    expect(memory.samples.map((s) => s.seq)).toEqual(samples.slice(-3).map((s) => s.seq))
    expect(memory.requests).toHaveLength(2)
    expect(memory.droppedRequests).toBe(3)
    expect(unbounded.requests).toHaveLength(5)
    expect(unbounded.requests).toEqual(expect.arrayContaining(settled))
    expect(memory.requests).toEqual(unbounded.requests.slice(-2))
    expect(unbounded.samples).toEqual(samples)
    expect(unbounded.droppedSamples).toBe(0)
    expect(none.samples).toEqual([])
    expect(none.droppedSamples).toBe(samples.length)
  })

  it('reset() forgets what it kept and the counts; a sink given to a second run keeps both final records', async () => {
    const memory = memorySink({ maxSamples: 2 })
    const first = tracked({ runId: 'one', sinks: [memory] })
    await first.tracker.start()
    await sleep(250)
    const one = await first.tracker.stop()
    expect(memory.droppedSamples).toBeGreaterThan(0)
    expect(memory.samples).toHaveLength(2)
    const second = tracked({ runId: 'two', sinks: [memory] })
    await second.tracker.start()
    expect(memory.run?.runId).toBe('two')
    expect(memory.finalRecord).toBeUndefined()
    const two = await second.tracker.stop()
    expect(memory.records).toEqual([one, two])
    expect(memory.finalRecord).toBe(two)
    memory.reset()
    expect(memory.samples).toEqual([])
    expect(memory.droppedSamples).toBe(0)
    expect(memory.requests).toEqual([])
    expect(memory.records).toEqual([])
    expect(memory.finalRecord).toBeUndefined()
  })

  it('refuses a bound that is not a whole number from 0, when made', () => {
    for (const bad of [-1, 1.5, Number.NaN, '10']) {
      expect(() => memorySink({ maxSamples: bad as number })).toThrow(WattprintError)
    }
    expect(() => memorySink({ maxRequests: -1 })).toThrow(/memorySink: maxRequests -1 must be a whole number/)
    expect(() => jsonlSink({} as never)).toThrow(/jsonlSink: path undefined must be the file to append to/)
    expect(() => jsonlSink({ path: 'x', onError: 'no' as never })).toThrow(WattprintError)
  })
})

describe('jsonlSink never throws into the run', () => {
  it('a file that cannot be opened is one SINK_FAILED warning, and the run and the other sinks go on', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'a-file'), 'in the way\n')
    const path = join(dir, 'a-file', 'timeline.jsonl')
    const memory = memorySink()
    const jsonl = jsonlSink({ path })
    const { tracker, warnings, samples } = tracked({ sinks: [jsonl, memory] })
    await tracker.start()
    await sleep(250)
    const record = await tracker.stop()
    expect(record.status).toBe('finished')
    expect(jsonl.failed).toBe(true)
    expect(jsonl.lines).toBe(0)
    const failed = warnings.filter((w) => w.code === 'SINK_FAILED')
    expect(failed).toHaveLength(1)
    expect(failed[0]?.message).toContain(`The jsonl sink could not write ${JSON.stringify(path)}`)
    expect(failed[0]?.message).toContain('is a file, not a directory')
    expect(memory.samples).toEqual(samples)
    expect(memory.finalRecord).toBe(record)
  })

  it('a write that fails mid-run (/dev/full) is one warning, not one per interval; onError takes it instead', async () => {
    const warned = tracked({ sinks: [jsonlSink({ path: '/dev/full' })] })
    await warned.tracker.start()
    await sleep(250)
    expect((await warned.tracker.stop()).status).toBe('finished')
    expect(warned.samples.length).toBeGreaterThan(1)
    expect(warned.warnings.filter((w) => w.code === 'SINK_FAILED').map((w) => w.message)).toEqual([
      'The jsonl sink could not write "/dev/full": ENOSPC: no space left on device, write; the run goes on without the file.',
    ])

    const errors: unknown[] = []
    const handled = tracked({
      sinks: [
        jsonlSink({
          path: '/dev/full',
          onError: (error) => {
            errors.push(error)
            throw new Error('a handler that throws is ignored too')
          },
        }),
      ],
    })
    await handled.tracker.start()
    await sleep(250)
    expect((await handled.tracker.stop()).status).toBe('finished')
    expect(handled.warnings.filter((w) => w.code === 'SINK_FAILED')).toEqual([])
    expect(errors).toHaveLength(1)
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOSPC')
  })

  it('appends to what is there: a second run adds its lines after the first', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'd'))
    const path = join(dir, 'd', 't.jsonl')
    writeFileSync(path, '{"before":true}\n')
    const sink = jsonlSink({ path })
    const counts: number[] = []
    for (const runId of ['a', 'b']) {
      const { tracker, samples } = tracked({ runId, sinks: [sink] })
      await tracker.start()
      await sleep(150)
      await tracker.stop()
      counts.push(samples.length)
    }
    const lines = linesOf(path)
    expect(lines[0]).toBe('{"before":true}')
    expect(lines).toHaveLength(1 + (counts[0] ?? 0) + (counts[1] ?? 0))
    expect(sink.lines).toBe((counts[0] ?? 0) + (counts[1] ?? 0))
    // Each run's seq starts again: the second run's first line follows the first run's last.
    const seqs = lines.slice(1).map((l) => (JSON.parse(l) as SampleEvent).seq)
    expect(seqs.filter((s, i) => i > 0 && s <= (seqs[i - 1] ?? 0))).toHaveLength(1)
  })
})

describe('jsonlSink: hostile text', () => {
  // CR, LF, ESC sequences (a screen clear, an OSC title), the one-byte C1 CSI and NEL, a bidi override and
  // isolate, zero-width characters, the line and paragraph separators, a tag character, quotes,
  // backslashes, and text in other scripts.
  const HOSTILE =
    'cr\rlf\nesc\u001b[2J\u001b]0;PWNED\u0007 csi\u009b31m nel\u0085 bidi\u202eevil\u2066 zw\u200b\u200d\ufeff ls\u2028ps\u2029 tag\u{e0041} "q" \\b\\ été 東京 🚀'

  it('a hostile project name round-trips through the file, read back by JSON.parse and by Python', async () => {
    const dir = tempDir()
    const path = join(dir, 'hostile.jsonl')
    const sink = jsonlSink({ path, record: true })
    const { tracker, samples } = tracked({ projectName: HOSTILE, experimentId: HOSTILE, sinks: [sink] })
    await tracker.start()
    await sleep(250)
    const record = await tracker.stop()
    expect(record.projectName).toBe(HOSTILE)

    // Nothing in the file that ends or breaks a line, or that a terminal would act on or hide: every such
    // character is an escape inside its JSON string.
    const text = readFileSync(path, 'utf8')
    expect(text.replaceAll('\n', '')).not.toMatch(HIDDEN)
    const lines = linesOf(path)
    // One line per interval, then the final record's line.
    expect(lines).toHaveLength(samples.length + 1)
    for (const [i, line] of lines.slice(0, -1).entries()) expect(JSON.parse(line)).toEqual(samples[i])
    const last = JSON.parse(lines.at(-1) ?? '') as { record: typeof record }
    expect(last.record.projectName).toBe(HOSTILE)
    expect(last.record.experimentId).toBe(HOSTILE)
    expect(last.record).toEqual(JSON.parse(JSON.stringify(record)))

    // Python's json module reads every line of it, split by a file's own line iteration and by
    // str.splitlines() (which also splits at U+2028, U+2029, NEL and the other separators), and finds the
    // same name: printed back as ASCII-only JSON, so that nothing of it is lost on the way.
    const python = spawnSync(
      'python3',
      [
        '-c',
        [
          'import json, sys',
          'path = sys.argv[1]',
          'with open(path, encoding="utf-8", newline="") as f: by_file = [json.loads(l) for l in f]',
          'with open(path, encoding="utf-8", newline="") as f: by_split = [json.loads(l) for l in f.read().splitlines()]',
          'assert len(by_file) == len(by_split), (len(by_file), len(by_split))',
          'print(json.dumps({"lines": len(by_file), "project": by_file[-1]["record"]["projectName"],',
          '  "experiment": by_split[-1]["record"]["experimentId"],',
          '  "powered": sum(1 for v in by_file if "powerW" in v)}))',
        ].join('\n'),
        path,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    )
    expect(python.status, python.stderr).toBe(0)
    expect(python.stdout).not.toMatch(/[^\x20-\x7e\n]/)
    expect(JSON.parse(python.stdout)).toEqual({
      lines: samples.length + 1,
      project: HOSTILE,
      experiment: HOSTILE,
      powered: samples.length,
    })
  })

  it('writes hidden characters as escapes, and the lines stay the JSON of the same value', () => {
    // The sink's own line, by way of a sample whose text is hostile (the intensity source, a meter's id).
    const dir = tempDir()
    const path = join(dir, 'one.jsonl')
    const sink = jsonlSink({ path })
    const warnings: TrackerWarning[] = []
    sink.start({
      projectName: 'p',
      experimentId: '',
      runId: 'r',
      pue: 1,
      warn: (w) => warnings.push(w),
      routeLabel: (n) => n,
    })
    const event = { seq: 0, intensitySource: HOSTILE, meters: [{ id: HOSTILE }] } as unknown as SampleEvent
    sink.sample?.(event)
    sink.stop?.({} as never)
    expect(warnings).toEqual([])
    const text = readFileSync(path, 'utf8')
    expect(text.endsWith('\n')).toBe(true)
    expect(text.slice(0, -1)).not.toMatch(HIDDEN)
    expect(text.slice(0, -1)).not.toContain('\n')
    expect(JSON.parse(text)).toEqual(event)
    // Plain text is written as JSON.stringify writes it.
    expect(text).toContain('été 東京 🚀')
    expect(text).toContain('\\u202e')
    expect(text).toContain('\\u2028')
  })
})
