// Energy per request and per token of a language model: a tiny llama-architecture model (random weights,
// examples/models/tiny-llama.gguf, made by scripts/make-tiny-models.py) answers a few prompts on the CPU
// through node-llama-cpp, each prompt measured by measureLlamaSession. Prints, per request, the joules of
// prefill per input token and of decode per output token; then the run's totals. Run it with
// `npm run example:llm`.
//
// On a machine without RAPL the CPU figure is an estimate from load (see the notes it prints). The model
// is tiny, so most of each request's energy is overhead: read the split and the method, not the joules.
import { fileURLToPath } from 'node:url'
import { getLlama, LlamaChatSession, LlamaLogLevel } from 'node-llama-cpp'
import { EmissionsTracker, formatEnergy, summaryLine } from 'wattprint'
import { measureLlamaSession } from 'wattprint/node-llama-cpp'

const PROMPTS = [
  'hello world',
  'how much energy does a token take?',
  'the quick brown fox jumps over the lazy dog, then what?',
]
const MAX_TOKENS = 48
const modelPath = fileURLToPath(new URL('./models/tiny-llama.gguf', import.meta.url))

// The prebuilt CPU binaries node-llama-cpp ships: no GPU, no build from source.
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
const model = await llama.loadModel({ modelPath })
// One thread: a model this small runs fastest on one, and the figures stay comparable between runs.
const context = await model.createContext({ contextSize: 1024, threads: 1 })

const tracker = new EmissionsTracker({ projectName: 'llm', experimentId: 'tiny-llama', intervalMs: 50 })
await tracker.start()
const chat = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: '' })
const session = measureLlamaSession(tracker, chat, { name: 'tiny-llama' })

console.log(
  `${PROMPTS.length} prompts to a tiny llama on the CPU (up to ${MAX_TOKENS} tokens each), wattprint on.`,
)
// A request's record settles with the interval that covers its end (stop() accounts the last ones), so
// the records are collected as they come and printed at the end.
const requests = []
tracker.on('request', (r) => requests.push(r))
const answers = []
for (const prompt of PROMPTS) answers.push(await session.prompt(prompt, { maxTokens: MAX_TOKENS }))
const record = await tracker.stop()
await context.dispose()
await model.dispose()

const mJ = (joules) => (joules === null ? '—' : `${(joules * 1000).toPrecision(3)} mJ`)
for (const [i, r] of requests.entries()) {
  console.log(
    `\n> ${PROMPTS[i]}\n  ${JSON.stringify(answers[i].slice(0, 60))}\n` +
      `  ${r.inputTokens} tokens in, ${r.outputTokens} out, ${(r.durationS * 1000).toFixed(1)} ms: ` +
      `${mJ(r.energyJ)} per request\n` +
      `  prefill ${mJ(r.prefillEnergyJ)} (${mJ(r.energyPerInputTokenJ)} per input token), ` +
      `decode ${mJ(r.decodeEnergyJ)} (${mJ(r.decodeEnergyPerOutputTokenJ)} per output token)`,
  )
}
console.log(
  `\nThe run: ${formatEnergy(record.energyKWh)} in ${record.durationS.toFixed(2)} s; ` +
    `${record.requests} requests, ${record.inputTokens} tokens in, ${record.outputTokens} out; ` +
    `${mJ(record.energyPerRequestJ)} per request, ${mJ(record.energyPerOutputTokenJ)} per output token ` +
    `(${mJ(record.energyBetweenRequestsJ)} between requests).`,
)
console.log(summaryLine(record))
for (const note of record.notes) console.log(`note: ${note}`)
