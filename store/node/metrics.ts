import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the gauges below read when scraped (nothing on the write path keeps them current). */
export interface NodeReadings {
  pending(): number;
  committed(): number;
  applied(): number;
  /** Readies handled since start: a count that stops moving means the Ready loop stopped. */
  readiesHandled(): number;
  /** ms the Ready in hand has taken so far (0 while the loop waits for work). */
  readyBusyMs(): number;
}

/** The node's metrics under etcd's names (dashboards built for etcd read them unchanged). */
export class NodeMetrics {
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly leaderChanges: Counter;
  readonly committed: Gauge;
  readonly applied: Gauge;
  readonly pending: Gauge;
  readonly failed: Counter;
  readonly fsync: Histogram;
  readonly snapshotSave: Histogram;
  readonly peerRtt: Histogram<'To'>;
  readonly readies: Gauge;
  readonly readyBusy: Gauge;

  constructor(registry: Registry, read: NodeReadings) {
    const registers = [registry];
    this.hasLeader = new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers });
    this.isLeader = new Gauge({ name: 'etcd_server_is_leader', help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.', registers });
    this.leaderChanges = new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers });
    this.committed = new Gauge({ name: 'etcd_server_proposals_committed_total', help: 'The total number of consensus proposals committed.', registers, collect() { this.set(read.committed()); } });
    this.applied = new Gauge({ name: 'etcd_server_proposals_applied_total', help: 'The total number of consensus proposals applied.', registers, collect() { this.set(read.applied()); } });
    this.pending = new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers, collect() { this.set(read.pending()); } });
    this.failed = new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers });
    this.readies = new Gauge({ name: 'berth_raft_readies_handled_total', help: 'Raft Readies the member persisted, sent and applied since it started.', registers, collect() { this.set(read.readiesHandled()); } });
    this.readyBusy = new Gauge({ name: 'berth_raft_ready_busy_seconds', help: 'How long the Ready in hand has taken so far; 0 while the loop waits for work.', registers, collect() { this.set(read.readyBusyMs() / 1000); } });
    this.fsync = new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192],
      registers,
    });
    this.snapshotSave = new Histogram({
      name: 'etcd_debugging_snap_save_total_duration_seconds',
      help: 'The total latency distributions of save called by snapshot.',
      buckets: [0.001, 0.01, 0.1, 1, 10],
      registers,
    });
    this.peerRtt = new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds',
      help: 'Round-Trip-Time histogram between peers',
      labelNames: ['To'],
      buckets: [0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048, 0.4096, 0.8192],
      registers,
    });
  }
}
