/** Something a service needs before it can serve: its database, Kafka, Temporal. */
export interface ReadinessProbe {
  readonly name: string;
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export const READINESS_PROBES = Symbol('ReadinessProbes');
