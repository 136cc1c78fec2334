import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A real SLURM cluster on this one machine: Debian's munged, slurmctld and two slurmd, each daemon in its
// own network namespace (its own address on a bridge) and UTS namespace (its own host name), with a hosts
// file bind-mounted over /etc/hosts in its own mount namespace so that the nodes find each other by name.
// /sys is left as it is (slurmd reads the cgroup mounts under it), which is why nsenter and unshare are
// used here rather than `ip netns exec`, which mounts a fresh /sys.
//
// Accounting as a site keeps it: slurmdbd on a MariaDB server (both in the controller's namespace), and
// SLURM's own energy plugin acct_gather_energy/pm_counters, which reads /sys/cray/pm_counters/{energy,power}
// (HPE Cray nodes). That path is fixed in the plugin, so each node's mount namespace gets its own /sys: a
// tmpfs holding the real /sys's folders (bound, cgroups included) and a `cray/pm_counters` folder bound
// from the cluster's folder, where the test writes the node's counters.

const SLURMCTLD = '/usr/sbin/slurmctld'
const SLURMD = '/usr/sbin/slurmd'
const MUNGED = '/usr/sbin/munged'
const SLURMDBD = '/usr/sbin/slurmdbd'
const MARIADBD = '/usr/sbin/mariadbd'

/** Whether this machine can run the cluster: the daemons installed, and root (namespaces, a bridge). */
export const haveSlurm = (): boolean =>
  [
    SLURMCTLD,
    SLURMD,
    MUNGED,
    SLURMDBD,
    MARIADBD,
    '/usr/bin/mariadb-install-db',
    '/usr/bin/sacctmgr',
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
  /** A node's pm_counters folder (its /sys/cray/pm_counters): write `energy` (J) and `power` (W) there. */
  pmCounters(node: string): string
  /** Runs a command in the controller's namespaces (sbatch, squeue, sinfo), SLURM_CONF set; its stdout. */
  ctl(command: string, args: readonly string[], env?: Record<string, string>): string
  /** The daemons' logs, for a failure's message. */
  logs(): string
  stop(): void
}

/**
 * Run in a node's (or the controller's) fresh UTS and mount namespaces before its command: its host name,
 * the cluster's hosts file, and on a node ($WP_SYS set) a /sys of its own with cray/pm_counters in it.
 */
const NAMESPACE_SETUP = `set -e
mount --bind "$WP_HOSTS" /etc/hosts
hostname "$WP_NAME"
if [ -n "$WP_SYS" ]; then
  mount -t tmpfs wattprint-sys "$WP_SYS"
  for entry in /sys/*; do
    mkdir "$WP_SYS/\${entry#/sys/}"
    mount --rbind "$entry" "$WP_SYS/\${entry#/sys/}"
  done
  mkdir -p "$WP_SYS/cray/pm_counters"
  mount --bind "$WP_PM" "$WP_SYS/cray/pm_counters"
  mount --move "$WP_SYS" /sys
fi
exec "$@"`

/** Sends SIGTERM to the pid a daemon wrote, if it wrote one. */
function signalFromPidFile(path: string): void {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    if (pid > 0) process.kill(pid, 'SIGTERM')
  } catch {}
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
    // Every daemon told to end at once (each takes a second or two), then each waited for in turn.
    for (const file of [
      'slurmctld.pid',
      ...nodes.map((n) => `slurmd-${n}.pid`),
      'slurmdbd.pid',
      'mariadb.pid',
      join('munge', 'pid'),
    ]) {
      signalFromPidFile(join(dir, file))
    }
    for (const undo of started.splice(0).reverse()) {
      try {
        undo()
      } catch {}
    }
  }
  const pmCounters = (node: string) => join(dir, `pm-counters-${node}`)
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
        NAMESPACE_SETUP,
        'sh',
        command,
        ...args,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          ...env,
          SLURM_CONF: conf,
          WP_HOSTS: hosts,
          WP_NAME: name,
          ...(nodes.includes(name) ? { WP_SYS: join(dir, `sys-${name}`), WP_PM: pmCounters(name) } : {}),
        },
        timeout: 120_000,
      },
    )
  try {
    mkdirSync(munge, { mode: 0o700 })
    mkdirSync(join(dir, 'state'))
    for (const node of nodes) {
      mkdirSync(join(dir, `spool-${node}`))
      mkdirSync(join(dir, `sys-${node}`))
      mkdirSync(pmCounters(node))
      // Until a test drives them: a counter that reads 0 J makes the plugin give up on the node for good.
      writeFileSync(join(pmCounters(node), 'energy'), '1000 J 0 us\n')
      writeFileSync(join(pmCounters(node), 'power'), '0 W 0 us\n')
    }
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
        // No cgroups of its own (the test machine's are not the daemons' to manage).
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'MpiDefault=none',
        'ReturnToService=2',
        // Energy as a site with Cray nodes accounts it: read by each node's slurmd every second, kept by
        // slurmdbd, asked of sacct.
        'JobAcctGatherType=jobacct_gather/linux',
        'JobAcctGatherFrequency=energy=1,task=1',
        'AcctGatherEnergyType=acct_gather_energy/pm_counters',
        'AcctGatherNodeFreq=1',
        'AccountingStorageType=accounting_storage/slurmdbd',
        'AccountingStorageHost=ctl',
        'AccountingStoragePort=6819',
        // For slurmdbd, the MUNGE socket is named here, not by AuthInfo.
        `AccountingStoragePass=${join(munge, 'socket')}`,
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
    await startAccounting(dir, netns('ctl'), address(0), munge, inNamespaces, started)
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
    pmCounters,
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
      return ['slurmctld.log', 'slurmdbd.log', 'mariadb.log', ...nodes.map((n) => `slurmd-${n}.log`)]
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

type InNamespaces = (
  name: string,
  command: string,
  args: readonly string[],
  env?: Record<string, string>,
) => SpawnSyncReturns<string>

/**
 * A MariaDB server (its own data folder, on the controller's loopback only, no grant tables: nothing else
 * can reach it) and slurmdbd on it; the cluster registered. Resolves once sacctmgr is answered.
 */
async function startAccounting(
  dir: string,
  ctlNetns: string,
  ctlAddress: string,
  munge: string,
  inNamespaces: InNamespaces,
  started: (() => void)[],
): Promise<void> {
  const data = join(dir, 'mariadb')
  sh('mariadb-install-db', [
    '--no-defaults',
    '--user=root',
    `--datadir=${data}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ])
  // Started through a shell that leaves it running, so that it is not this process's child: a child
  // that has exited would stay a zombie until this (synchronous) teardown returns, and seem alive.
  sh('sh', [
    '-c',
    'ns=$1; shift; nsenter "--net=/run/netns/$ns" "$@" >/dev/null 2>&1 </dev/null &',
    'sh',
    ctlNetns,
    MARIADBD,
    '--no-defaults',
    '--user=root',
    `--datadir=${data}`,
    `--socket=${join(dir, 'mariadb.sock')}`,
    `--pid-file=${join(dir, 'mariadb.pid')}`,
    `--log-error=${join(dir, 'mariadb.log')}`,
    '--bind-address=127.0.0.1',
    '--port=3306',
    '--skip-name-resolve',
    '--skip-grant-tables',
  ])
  started.push(() => killFromPidFile(join(dir, 'mariadb.pid')))
  const dbd = join(dir, 'slurmdbd.conf')
  writeFileSync(
    dbd,
    [
      'AuthType=auth/munge',
      `AuthInfo=socket=${join(munge, 'socket')}`,
      'DbdHost=ctl',
      `DbdAddr=${ctlAddress}`,
      'DbdPort=6819',
      'SlurmUser=root',
      `PidFile=${join(dir, 'slurmdbd.pid')}`,
      `LogFile=${join(dir, 'slurmdbd.log')}`,
      'StorageType=accounting_storage/mysql',
      'StorageHost=127.0.0.1',
      'StoragePort=3306',
      'StorageUser=root',
      'StorageLoc=wattprint_acct',
      '',
    ].join('\n'),
  )
  // slurmdbd refuses a configuration others can read (it may hold the database's password).
  chmodSync(dbd, 0o600)
  const until = async (what: string, ready: () => boolean, log: string) => {
    const deadline = Date.now() + 60_000
    while (!ready()) {
      if (Date.now() > deadline) {
        const tail = spawnSync('tail', ['-n', '20', join(dir, log)], { encoding: 'utf8' }).stdout
        throw new Error(`${what} did not come up${said ? `: ${said}` : ''}\n== ${log}\n${tail}`)
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  let said = ''
  await until(
    'MariaDB',
    () => existsSync(join(dir, 'mariadb.sock')) && existsSync(join(dir, 'mariadb.pid')),
    'mariadb.log',
  )
  const up = inNamespaces('ctl', SLURMDBD, [])
  if (up.status !== 0) throw new Error(`slurmdbd failed: ${up.stderr}`)
  started.push(() => killFromPidFile(join(dir, 'slurmdbd.pid')))
  await until(
    'slurmdbd',
    () => {
      const added = inNamespaces('ctl', 'sacctmgr', ['-i', 'add', 'cluster', 'wattprint'])
      said = `${added.stderr}${added.stdout}`.trim()
      return added.status === 0
    },
    'slurmdbd.log',
  )
}
