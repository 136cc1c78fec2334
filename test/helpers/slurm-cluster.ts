import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A real SLURM cluster on this one machine: Debian's munged, slurmctld and two slurmd, each daemon in its
// own network namespace (its own address on a bridge) and UTS namespace (its own host name), with a hosts
// file bind-mounted over /etc/hosts in its own mount namespace so that the nodes find each other by name.
// /sys is left as it is (slurmd reads the cgroup mounts under it), which is why nsenter and unshare are
// used here rather than `ip netns exec`, which mounts a fresh /sys.

const SLURMCTLD = '/usr/sbin/slurmctld'
const SLURMD = '/usr/sbin/slurmd'
const MUNGED = '/usr/sbin/munged'

/** Whether this machine can run the cluster: the daemons installed, and root (namespaces, a bridge). */
export const haveSlurm = (): boolean =>
  [
    SLURMCTLD,
    SLURMD,
    MUNGED,
    '/usr/bin/sbatch',
    '/usr/bin/nsenter',
    '/usr/bin/unshare',
    '/usr/sbin/ip',
  ].every((path) => existsSync(path)) && process.getuid?.() === 0

export interface SlurmCluster {
  /** The cluster's folder (its configuration, state, logs). */
  readonly dir: string
  readonly nodes: readonly string[]
  /** This (the root) namespace's address on the cluster's bridge: a server here that the nodes reach. */
  readonly hostAddress: string
  /** Runs a command in the controller's namespaces (sbatch, squeue, sinfo), SLURM_CONF set; its stdout. */
  ctl(command: string, args: readonly string[], env?: Record<string, string>): string
  /** The daemons' logs, for a failure's message. */
  logs(): string
  stop(): void
}

/** Ends a daemon by the pid it wrote, and waits (up to 5 s) until it is gone. */
function killFromPidFile(path: string): void {
  const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
  if (!(pid > 0)) return
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    spawnSync('sleep', ['0.05'])
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

function sh(command: string, args: readonly string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Starts munged, slurmctld and a slurmd per node; resolves once every node is idle. */
export async function startSlurmCluster(
  nodes: readonly string[] = ['nodeA', 'nodeB'],
): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-slurm-'))
  // Names of at most 15 characters, this run's own: another run's cluster is left alone.
  const tag = `wp${process.pid % 100_000}`
  const bridge = `${tag}br`
  const names = ['ctl', ...nodes]
  const netns = (name: string) => `${tag}-${name}`
  const subnet = `10.${200 + (process.pid % 50)}.${(process.pid >> 6) % 250}`
  const address = (i: number) => `${subnet}.${i + 1}`
  const conf = join(dir, 'slurm.conf')
  const hosts = join(dir, 'hosts')
  const munge = join(dir, 'munge')
  const started: (() => void)[] = []
  const stop = () => {
    for (const undo of started.splice(0).reverse()) {
      try {
        undo()
      } catch {}
    }
  }
  const inNamespaces = (
    name: string,
    command: string,
    args: readonly string[],
    env: Record<string, string> = {},
  ) =>
    spawnSync(
      'nsenter',
      [
        `--net=/run/netns/${netns(name)}`,
        'unshare',
        '--uts',
        '--mount',
        'sh',
        '-c',
        'mount --bind "$WP_HOSTS" /etc/hosts && hostname "$WP_NAME" && exec "$@"',
        'sh',
        command,
        ...args,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, ...env, SLURM_CONF: conf, WP_HOSTS: hosts, WP_NAME: name },
        timeout: 120_000,
      },
    )
  try {
    mkdirSync(munge, { mode: 0o700 })
    mkdirSync(join(dir, 'state'))
    for (const node of nodes) mkdirSync(join(dir, `spool-${node}`))
    sh('mungekey', ['--create', '--keyfile', join(dir, 'munge.key'), '--bits', '1024'])
    sh(MUNGED, [
      `--key-file=${join(dir, 'munge.key')}`,
      `--socket=${join(munge, 'socket')}`,
      `--pid-file=${join(munge, 'pid')}`,
      `--log-file=${join(munge, 'log')}`,
      `--seed-file=${join(munge, 'seed')}`,
      '--force',
    ])
    started.push(() => killFromPidFile(join(munge, 'pid')))
    sh('ip', ['link', 'add', bridge, 'type', 'bridge'])
    started.push(() => sh('ip', ['link', 'del', bridge]))
    sh('ip', ['addr', 'add', `${subnet}.254/24`, 'dev', bridge])
    sh('ip', ['link', 'set', bridge, 'up'])
    names.forEach((name, i) => {
      sh('ip', ['netns', 'add', netns(name)])
      started.push(() => sh('ip', ['netns', 'del', netns(name)]))
      const veth = `${tag}v${i}`
      sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns(name)])
      sh('ip', ['link', 'set', veth, 'master', bridge, 'up'])
      sh('ip', ['-n', netns(name), 'addr', 'add', `${address(i)}/24`, 'dev', 'eth0'])
      sh('ip', ['-n', netns(name), 'link', 'set', 'eth0', 'up'])
      sh('ip', ['-n', netns(name), 'link', 'set', 'lo', 'up'])
    })
    writeFileSync(hosts, `127.0.0.1 localhost\n${names.map((n, i) => `${address(i)} ${n}`).join('\n')}\n`)
    writeFileSync(
      conf,
      [
        'ClusterName=wattprint',
        `SlurmctldHost=ctl(${address(0)})`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${join(munge, 'socket')}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'SlurmctldPort=6817',
        'SlurmdPort=6818',
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool-%n')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd-%n.pid')}`,
        `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'slurmd-%n.log')}`,
        // No cgroups of its own (the test machine's are not the daemons' to manage), no accounting database.
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'MpiDefault=none',
        'ReturnToService=2',
        'JobAcctGatherType=jobacct_gather/none',
        'AcctGatherEnergyType=acct_gather_energy/none',
        'AccountingStorageType=accounting_storage/none',
        'SchedulerType=sched/builtin',
        'InactiveLimit=0',
        'KillWait=5',
        ...nodes.map((node, i) => `NodeName=${node} NodeAddr=${address(i + 1)} CPUs=2 State=UNKNOWN`),
        'PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES',
        '',
      ].join('\n'),
    )
    const daemon = (name: string, command: string, args: readonly string[]) => {
      const result = inNamespaces(name, command, args)
      if (result.status !== 0) throw new Error(`${command} on ${name} failed: ${result.stderr}`)
    }
    daemon('ctl', SLURMCTLD, ['-f', conf])
    started.push(() => killFromPidFile(join(dir, 'slurmctld.pid')))
    for (const node of nodes) {
      daemon(node, SLURMD, ['-f', conf, '-N', node])
      started.push(() => killFromPidFile(join(dir, `slurmd-${node}.pid`)))
    }
  } catch (error) {
    stop()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const cluster: SlurmCluster = {
    dir,
    nodes,
    hostAddress: `${subnet}.254`,
    ctl(command, args, env = {}) {
      const result = inNamespaces('ctl', command, args, env)
      if (result.status !== 0) {
        throw new Error(
          `${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}\n${cluster.logs()}`,
        )
      }
      return result.stdout
    },
    logs() {
      return ['slurmctld.log', ...nodes.map((n) => `slurmd-${n}.log`)]
        .map((f) => {
          const r = spawnSync('tail', ['-n', '15', join(dir, f)], { encoding: 'utf8' })
          return `== ${f}\n${r.stdout}`
        })
        .join('\n')
    },
    stop() {
      stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  // Every node registered and idle.
  const deadline = Date.now() + 60_000
  for (;;) {
    const states = cluster.ctl('sinfo', ['-h', '-N', '-o', '%N %t'])
    const idle = states.split('\n').filter((line) => / idle$/.test(line.trim())).length
    if (idle === nodes.length) break
    if (Date.now() > deadline) {
      const logs = cluster.logs()
      cluster.stop()
      throw new Error(`the SLURM nodes did not come up: ${states}\n${logs}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return cluster
}
