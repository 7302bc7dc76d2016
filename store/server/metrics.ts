import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The client-facing metrics, under etcd's names so existing etcd dashboards and alerts work.
 * The node registers its own (proposals, leader, WAL fsync) on the same registry.
 */
export class ServerMetrics {
  readonly received: Counter<'method'>;
  readonly failed: Counter<'method'>;
  readonly handOffs: Counter;

  constructor(readonly registry: Registry) {
    this.received = new Counter({ name: 'etcd_http_received_total', help: 'Counter of requests received into the system (successfully parsed and authd).', labelNames: ['method'], registers: [registry] });
    this.failed = new Counter({ name: 'etcd_http_failed_total', help: 'Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) and code (400, 500 etc.).', labelNames: ['method'], registers: [registry] });
    this.handOffs = new Counter({ name: 'berth_http_fast_path_handoffs_total', help: 'Client connections the fast path handed to node:http (at a watch, another path, or a request it does not read itself).', registers: [registry] });
  }

  receivedRequest(method: string): void {
    this.received.inc({ method });
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
