import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The client-facing metrics, under etcd's names so existing etcd dashboards and alerts work.
 * The node registers its own (proposals, leader, WAL fsync) on the same registry.
 */
export class ServerMetrics {
  readonly received: Counter<'method'>;
  readonly failed: Counter<'method'>;
  readonly handOffs: Counter;
  /**
   * Requests received per method, counted in a plain map and handed to the counter when scraped:
   * prom-client's labelled inc() hashes its labels on every request (about 1% of a member's CPU
   * under 64 connections of GETs, in a CPU profile).
   */
  private readonly receivedByMethod = new Map<string, number>();

  constructor(readonly registry: Registry) {
    const receivedByMethod = this.receivedByMethod;
    this.received = new Counter({
      name: 'etcd_http_received_total',
      help: 'Counter of requests received into the system (successfully parsed and authd).',
      labelNames: ['method'],
      registers: [registry],
      collect() {
        for (const [method, n] of receivedByMethod) {
          this.inc({ method }, n);
          receivedByMethod.set(method, 0);
        }
      },
    });
    this.failed = new Counter({ name: 'etcd_http_failed_total', help: 'Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) and code (400, 500 etc.).', labelNames: ['method'], registers: [registry] });
    this.handOffs = new Counter({ name: 'berth_http_fast_path_handoffs_total', help: 'Client connections the fast path handed to node:http (at a watch, another path, or a request it does not read itself).', registers: [registry] });
  }

  receivedRequest(method: string): void {
    this.receivedByMethod.set(method, (this.receivedByMethod.get(method) ?? 0) + 1);
  }

  failedRequest(method: string): void {
    this.failed.inc({ method });
  }

  static withDefaults(): Registry {
    const r = new Registry();
    collectDefaultMetrics({ register: r });
    return r;
  }
}

export { Gauge };
