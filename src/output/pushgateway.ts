// A Pushgateway's grouping key and the push itself. A push replaces the group its key names, so two
// runs with one key overwrite each other: each run gets its own key (project, run id, rank).

/** Prometheus label names; `__` names are reserved, and `job` is the grouping key's job name. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Why `name` cannot be a grouping label, or undefined when it can. */
export function labelNameProblem(name: string): string | undefined {
  if (!LABEL_NAME.test(name)) return 'a label name is letters, digits and _, not starting with a digit'
  if (name.startsWith('__')) return 'label names starting with __ are reserved by Prometheus'
  if (name === 'job') return "the job is the grouping key's job name (pushgateway.job)"
  return undefined
}

/** What a run's grouping key is made of. */
export interface GroupingParts {
  readonly projectName: string
  readonly runId: string
  /** The job's id and the node, under a launcher. */
  readonly jobId?: string | undefined
  readonly node?: string | undefined
  readonly rank: string | undefined
  /** The user's labels: they win over the run's own (`{ run_id: 'nightly' }` makes reruns replace one group). */
  readonly labels: Readonly<Record<string, string>>
}

/**
 * A run's grouping key: `project`, `run_id`, then `job_id`, `node` and `rank` (when known), then the
 * user's labels.
 */
export function groupingKey(parts: GroupingParts): Record<string, string> {
  return {
    project: parts.projectName,
    run_id: parts.runId,
    ...(parts.jobId === undefined ? {} : { job_id: parts.jobId }),
    ...(parts.node === undefined ? {} : { node: parts.node }),
    ...(parts.rank === undefined ? {} : { rank: parts.rank }),
    ...parts.labels,
  }
}

const base64Url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url')

/**
 * One path segment pair of a grouping key. A value that is not plain (a `/`, which a Pushgateway cannot
 * take even as `%2F`, an empty value, anything outside the URL's unreserved characters) goes in the
 * Pushgateway's base64 form, `name@base64/<base64url>`; an empty one as `=`.
 */
function segment(name: string, value: string): string {
  if (/^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/.test(value)) return `/${name}/${value}`
  return `/${name}@base64/${value === '' ? '=' : base64Url(value)}`
}

/** The path of a group below the Pushgateway's URL: `/metrics/job/<job>/<name>/<value>…`. */
export function groupPath(job: string, key: Readonly<Record<string, string>>): string {
  return `/metrics${segment('job', job)}${Object.entries(key)
    .map(([name, value]) => segment(name, value))
    .join('')}`
}

/** The group's URL under the gateway's (which may itself have a path prefix). */
export function groupUrl(gatewayUrl: string, job: string, key: Readonly<Record<string, string>>): string {
  return `${gatewayUrl.replace(/\/+$/, '')}${groupPath(job, key)}`
}

/**
 * POSTs `body` to the group (replacing the metrics of the same names in it, and only in it). Rejects with
 * the status and the start of the gateway's answer when it refuses.
 */
export async function pushGroup(url: string, body: string, contentType: string, timeoutMs: number) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  })
  const answer = await response.text()
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${answer.trim().slice(0, 300)}`)
}
