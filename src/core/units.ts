/** Joules in one kilowatt-hour. */
export const JOULES_PER_KWH = 3_600_000

/** Bytes in one GiB (2^30): RAM sizes are reported in GiB, as CodeCarbon does. */
export const BYTES_PER_GIB = 1024 ** 3

/** Joules to kilowatt-hours. */
export const joulesToKWh = (joules: number): number => joules / JOULES_PER_KWH

/** Kilowatt-hours to joules. */
export const kWhToJoules = (kWh: number): number => kWh * JOULES_PER_KWH

/** Grams per kWh × kWh → kilograms. */
export const emissionsKg = (kWh: number, gPerKWh: number): number => (kWh * gPerKWh) / 1000

/** Nanoseconds (from process.hrtime.bigint) to seconds. */
export const nsToSeconds = (ns: bigint): number => Number(ns) / 1e9

/** Milliseconds to nanoseconds, as a bigint for the sampling clock. */
export const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6))
