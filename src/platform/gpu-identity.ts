/** A GPU as the driver enumerates it. */
export interface GpuIdentity {
  readonly index: number
  /** `GPU-8f6c…`. */
  readonly uuid: string
}
