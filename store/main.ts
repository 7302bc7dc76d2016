/**
 * `berth store`: one member of a berth cluster. With no flags, a single-node cluster on
 * 127.0.0.1:2379 (peers 2380) with its data in ./berth.data. Flags are etcd's; each can also
 * come from BERTH_<FLAG> in the environment.
 */
import { join, resolve } from 'node:path';
import { formatHelp, parseConfig, type FlagSpec } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';
import { createRootLogger } from '../lib/log.ts';
import { ServerMetrics } from './server/metrics.ts';
import { startClientServer } from './server/http-server.ts';
import { parseInitialCluster } from './node/members.ts';
import { StoreNodeImpl } from './node/store-node.ts';
import { TcpPeerTransport } from './transport/tcp-transport.ts';
import { autoTlsMaterial, loadTlsMaterial, type TlsMaterial } from './transport/tls-material.ts';

const specs: FlagSpec[] = [
  { name: 'name', type: 'string', default: 'default', help: 'human-readable name for this member' },
  { name: 'data-dir', type: 'string', default: 'berth.data', help: 'path to the data directory' },
  { name: 'listen-client-urls', type: 'list', default: ['http://127.0.0.1:2379'], help: 'URLs to listen on for client traffic' },
  { name: 'advertise-client-urls', type: 'list', default: undefined, help: 'client URLs to advertise to the rest of the cluster (default: the listen URLs)' },
  { name: 'listen-peer-urls', type: 'list', default: ['http://127.0.0.1:2380'], help: 'URLs to listen on for peer traffic' },
  { name: 'initial-advertise-peer-urls', type: 'list', default: undefined, help: "this member's peer URLs to advertise (default: the listen peer URLs)" },
  { name: 'initial-cluster', type: 'string', default: undefined, help: 'initial cluster configuration, name=peerURL,... (default: this member alone)' },
  { name: 'initial-cluster-state', type: 'enum', choices: ['new', 'existing'], default: 'new', help: 'new for a new cluster, existing to join one' },
  { name: 'initial-cluster-token', type: 'string', default: 'etcd-cluster', help: 'initial cluster token, distinguishing clusters with the same members' },
  { name: 'heartbeat-interval', type: 'int', default: 100, min: 1, help: 'time (ms) of a heartbeat interval' },
  { name: 'election-timeout', type: 'int', default: 1000, min: 1, help: 'time (ms) for an election to timeout' },
  { name: 'snapshot-count', type: 'int', default: 10000, min: 1, help: 'number of committed entries that trigger a snapshot' },
  { name: 'max-request-bytes', type: 'int', default: 1572864, min: 1, help: 'maximum client request size in bytes' },
  { name: 'log-level', type: 'enum', choices: ['debug', 'info', 'warn', 'error'], default: 'info', help: 'log level' },
  { name: 'log-format', type: 'enum', choices: ['json', 'pretty'], default: undefined, help: 'log format (default: pretty on a terminal, JSON otherwise)' },
  { name: 'cert-file', type: 'string', default: undefined, help: 'client TLS certificate file' },
  { name: 'key-file', type: 'string', default: undefined, help: 'client TLS key file' },
  { name: 'trusted-ca-file', type: 'string', default: undefined, help: 'client TLS CA file' },
  { name: 'client-cert-auth', type: 'bool', default: false, help: 'require client certificates signed by the trusted CA' },
  { name: 'peer-cert-file', type: 'string', default: undefined, help: 'peer TLS certificate file' },
  { name: 'peer-key-file', type: 'string', default: undefined, help: 'peer TLS key file' },
  { name: 'peer-trusted-ca-file', type: 'string', default: undefined, help: 'peer TLS CA file' },
  { name: 'peer-client-cert-auth', type: 'bool', default: false, help: 'require peer certificates signed by the peer CA' },
  { name: 'auto-tls', type: 'bool', default: false, help: 'client TLS with a generated self-signed certificate (when --cert-file is not given)' },
  { name: 'peer-auto-tls', type: 'bool', default: false, help: 'peer TLS with a generated self-signed certificate (when --peer-cert-file is not given)' },
];

interface StoreFlags {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[] | undefined;
  listenPeerUrls: string[];
  initialAdvertisePeerUrls: string[] | undefined;
  initialCluster: string | undefined;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  heartbeatInterval: number;
  electionTimeout: number;
  snapshotCount: number;
  maxRequestBytes: number;
  logLevel: string;
  logFormat: 'json' | 'pretty' | undefined;
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  clientCertAuth: boolean;
  peerCertFile?: string;
  peerKeyFile?: string;
  peerTrustedCaFile?: string;
  peerClientCertAuth: boolean;
  autoTls: boolean;
  peerAutoTls: boolean;
}

function checkUrls(flag: string, urls: string[]): void {
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(`--${flag}`, `"${u}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`--${flag}`, `"${u}": expected http://host:port or https://host:port`);
    if (!parsed.port) throw new ConfigError(`--${flag}`, `"${u}": a port is required`);
  }
}

/**
 * The TLS material for the client ('') or peer ('peer-') listener: files when given, a
 * self-signed certificate with --auto-tls, and the checks etcd makes on the combination.
 */
function resolveTls(prefix: '' | 'peer-', cert: string | undefined, key: string | undefined, ca: string | undefined, certAuth: boolean, auto: boolean, autoDir: string, listenUrls: string[]): TlsMaterial | undefined {
  let material = loadTlsMaterial(prefix, { cert, key, ca });
  const wantsTls = listenUrls.some((u) => u.startsWith('https://'));
  if (certAuth && !material?.ca) throw new ConfigError(`--${prefix}client-cert-auth`, `needs --${prefix}trusted-ca-file to verify certificates`);
  if (!material && auto && wantsTls) material = autoTlsMaterial(autoDir, ['127.0.0.1', 'localhost', ...listenUrls.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, ''))]);
  if (wantsTls && !material) throw new ConfigError(`--${prefix}cert-file`, `an https:// URL in --listen-${prefix === '' ? 'client' : 'peer'}-urls needs --${prefix}cert-file and --${prefix}key-file, or --${prefix}auto-tls`);
  return material;
}

export async function main(argv: string[]): Promise<number> {
  const { values: f, help } = parseConfig<StoreFlags>(specs, argv, process.env, { allowPositionals: false });
  if (help) {
    process.stdout.write(formatHelp('usage: berth store [flags]', specs) + '\n');
    return 0;
  }
  if (f.electionTimeout < 5 * f.heartbeatInterval) {
    throw new ConfigError('--election-timeout', `must be at least 5 × --heartbeat-interval (${5 * f.heartbeatInterval} ms), got ${f.electionTimeout}`);
  }
  checkUrls('listen-client-urls', f.listenClientUrls);
  checkUrls('listen-peer-urls', f.listenPeerUrls);
  const advertiseClient = f.advertiseClientUrls ?? f.listenClientUrls;
  const advertisePeer = f.initialAdvertisePeerUrls ?? f.listenPeerUrls;
  checkUrls('advertise-client-urls', advertiseClient);
  checkUrls('initial-advertise-peer-urls', advertisePeer);
  let initialCluster;
  try {
    initialCluster = f.initialCluster ? parseInitialCluster(f.initialCluster) : [{ name: f.name, peerURLs: advertisePeer }];
  } catch (e) {
    throw new ConfigError('--initial-cluster', (e as Error).message);
  }
  if (!initialCluster.some((m) => m.name === f.name)) throw new ConfigError('--initial-cluster', `does not name this member "${f.name}" (--name)`);

  const dataDirForTls = resolve(f.dataDir);
  const clientTls = resolveTls('', f.certFile, f.keyFile, f.trustedCaFile, f.clientCertAuth, f.autoTls, join(dataDirForTls, 'fixtures', 'client'), f.listenClientUrls);
  const peerTls = resolveTls('peer-', f.peerCertFile, f.peerKeyFile, f.peerTrustedCaFile, f.peerClientCertAuth, f.peerAutoTls, join(dataDirForTls, 'fixtures', 'peer'), f.listenPeerUrls);
  const root = createRootLogger({ level: f.logLevel, format: f.logFormat });
  const logger = root.child({ member: f.name });
  const registry = ServerMetrics.withDefaults();
  const dataDir = resolve(f.dataDir);

  let removed = (): void => {};
  let transport: TcpPeerTransport | undefined;
  const node = await StoreNodeImpl.start({
    onRemoved: () => removed(),
    dataDir,
    name: f.name,
    peerURLs: advertisePeer,
    clientURLs: advertiseClient,
    initialCluster,
    initialClusterState: f.initialClusterState,
    clusterToken: f.initialClusterToken,
    heartbeatMs: f.heartbeatInterval,
    electionMs: f.electionTimeout,
    snapshotCount: f.snapshotCount,
    logger: logger.child({ component: 'node' }),
    metrics: registry,
    transportFactory: (self, clusterId, events) =>
      (transport = new TcpPeerTransport({ selfId: self, clusterId, listenUrls: f.listenPeerUrls, logger: logger.child({ component: 'transport' }), metrics: registry, ...events, tls: peerTls, clientCertAuth: f.peerClientCertAuth })),
  });
  // A member that cannot take its ports must not run on half-connected.
  let server;
  try {
    await transport?.ready();
    server = await startClientServer({
      node,
      listenUrls: f.listenClientUrls,
      logger: logger.child({ component: 'http' }),
      clusterId: node.status().clusterId,
      metrics: registry,
      limits: { maxRequestBytes: f.maxRequestBytes },
      tls: clientTls,
      clientCertAuth: f.clientCertAuth,
    });
  } catch (e) {
    await node.stop();
    throw e;
  }
  logger.info({ clientURLs: server.urls, dataDir }, 'ready to serve client requests');

  await new Promise<void>((resolveStop) => {
    const onSignal = (sig: NodeJS.Signals) => {
      logger.info({ signal: sig }, 'shutting down: finishing in-flight writes');
      resolveStop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    removed = () => resolveStop();
  });
  await server.close();
  await node.stop();
  logger.info({}, 'stopped');
  root.flush();
  return 0;
}
