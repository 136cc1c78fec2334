/**
 * The host assumed for a virtual machine whose host is unknown: Cloud Carbon Footprint's commonest CPU host
 * (AWS m5's and others', 70 instance types of data/cloud-embodied.csv): two sockets, 96 threads, 384 GiB
 * and no drives. The embodied estimate takes the guest's share of its kg, the power estimate the guest's
 * share of its watts.
 */
export const ASSUMED_HOST = { sockets: 2, threads: 96, memoryGiB: 384 } as const

/**
 * How much wider (in log space) the power interval is when the host is assumed rather than known: a
 * judgement, not a calibration (no training server is a guest), stated wherever it is used.
 */
export const ASSUMED_HOST_WIDENING = 1.5
