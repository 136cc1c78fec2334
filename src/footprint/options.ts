/** The host a virtual machine or container runs on, as the user knows it (option `embodied.host`). */
export interface EmbodiedHostOption {
  /** The host's logical CPUs (threads), which the guest's vCPUs are a share of. Default 96. */
  readonly threads?: number
  /** The host's memory, GiB, which the guest's memory is a share of. Default 384. */
  readonly memoryGiB?: number
}

/** The machine's embodied emissions, as the user knows them (option `embodied`). */
export interface EmbodiedOption {
  /**
   * Total embodied emissions of the machine, kg CO2e; in a virtual machine or a container, of its host.
   * Default: looked up. Formerly `kgCO2e`, still read, with a `DEPRECATED_OPTION` warning.
   */
  readonly emissionsKg?: number
  /** @deprecated use emissionsKg (the same figure, kg CO2e). */
  readonly kgCO2e?: number
  /** The hardware's expected life, years. Default 4 (Cloud Carbon Footprint's and SCI guidance's). */
  readonly lifetimeYears?: number
  /**
   * The share of that hardware the run reserved (SCI's RR/ToR), 0 to 1: `1 / 8` for one GPU of eight.
   * Default: the instance's vCPUs (or GPUs) over its host's; a virtual machine's or container's vCPUs and
   * memory over its host's; 1 on bare metal; times the job's share under attribution.
   */
  readonly share?: number
  /**
   * The host of this virtual machine or container, for its share: threads and memory. Default: the cloud
   * instance type's host, else an assumed 2-socket server of 96 threads and 384 GiB (a container: this
   * machine). Given on a machine not detected as a guest, it makes it one.
   */
  readonly host?: EmbodiedHostOption
}

/** What SCI is counted per (option `functionalUnit`): `{ name: 'epoch', count: 10 }`. */
export interface FunctionalUnitOption {
  /** The unit's name: `epoch`, `request`, `token`, `image` … */
  readonly name: string
  /** How many units the run delivered. Required for `sci` until the run itself counts them. */
  readonly count?: number
}

/** The footprint's options, resolved. */
export interface FootprintConfig {
  readonly embodied: EmbodiedOption | null
  readonly cloudInstanceType: string | null
  /** The data centre's WUE, L per IT kWh (option wueLPerKWh); null: the provider's published figure. */
  readonly wueLPerKWh: number | null
  /** The grid's water intensity, L/kWh (option waterIntensityLPerKWh); null: the shipped table's. */
  readonly waterIntensityLPerKWh: number | null
  readonly functionalUnit: FunctionalUnitOption | null
  /** Where /proc is: the CPU flags (a hypervisor's) and this process's cgroup (a container's limits). */
  readonly procRoot: string
  /** Where /sys is: the firmware's DMI, the block devices. */
  readonly sysRoot: string
}

/** Default hardware life, years. */
export const DEFAULT_LIFETIME_YEARS = 4
