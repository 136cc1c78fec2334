// Quantities with readable units, for people: the one place a figure becomes text.
import { JOULES_PER_KWH } from '../core/units.js'

/** Energy with a readable unit: J below 1 Wh, Wh below 1 kWh, else kWh. */
export function formatEnergy(kWh: number): string {
  const joules = kWh * JOULES_PER_KWH
  if (joules < 3600) return `${joules.toFixed(joules < 10 ? 2 : 1)} J`
  if (kWh < 1) return `${(kWh * 1000).toFixed(2)} Wh`
  return `${kWh.toFixed(3)} kWh`
}

/** A mass of CO2e with a readable unit (mg, g, kg). */
export function formatMass(kg: number): string {
  if (kg < 1e-3) return `${(kg * 1e6).toFixed(2)} mg`
  if (kg < 1) return `${(kg * 1e3).toFixed(2)} g`
  return `${kg.toFixed(3)} kg`
}

/** Joules per unit (per request, per token) with three significant figures; `-` for none. */
export function joulesCell(joules: number | null): string {
  return joules === null ? '-' : joules.toPrecision(3)
}

/** A duration with a readable unit, chosen by its size: `42.0 s`, `12.5 min`, `3.20 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`
  return `${(seconds / 3600).toFixed(2)} h`
}

/** Litres with a readable unit: mL below 1 L. */
export function formatWater(litres: number): string {
  // A short run's water is microlitres: shown as such, never rounded to a zero that reads as none.
  if (litres > 0 && litres < 1e-3) return `${(litres * 1e6).toFixed(2)} µL`
  return litres < 1 ? `${(litres * 1000).toFixed(2)} mL` : `${litres.toFixed(3)} L`
}
