import type { IncomingMessage, ServerResponse } from 'node:http';
import { BERTH_VERSION, ETCD_COMPAT_VERSION } from '../../lib/version.ts';
import type { StoreNode, Member } from '../node/types.ts';
import { StateType } from '../raft/types.ts';
import { readBody } from './form.ts';
import { methodNotAllowed, writeHttpError, writeJson } from './responses.ts';

const hex = (id: number) => id.toString(16);

function memberJSON(m: Member): { id: string; name: string; peerURLs: string[]; clientURLs: string[] } {
  return { id: hex(m.id), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs };
}

/** Go's time.Duration String() for a span in ms, e.g. "2m14.112s". */
function goDuration(ms: number): string {
  const total = ms / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = +(total % 60).toFixed(9);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

export function handleVersion(res: ServerResponse): void {
  writeJson(res, 200, { etcdserver: ETCD_COMPAT_VERSION, etcdcluster: '3.4.0', berth: BERTH_VERSION });
}

export function handleHealth(res: ServerResponse, node: StoreNode): void {
  const s = node.status();
  const healthy = s.leaderId !== 0;
  writeJson(res, healthy ? 200 : 503, { health: healthy ? 'true' : 'false', ...(healthy ? {} : { reason: 'no leader' }) });
}

export function handleStats(req: IncomingMessage, res: ServerResponse, node: StoreNode, which: string): void {
  if (req.method !== 'GET') return methodNotAllowed(res, ['GET']);
  if (which === 'store') return writeJson(res, 200, node.keyspace.stats());
  const s = node.status();
  if (which === 'self') {
    return writeJson(res, 200, {
      name: s.name,
      id: hex(s.id),
      state: s.state,
      startTime: s.startTime.toISOString(),
      leaderInfo: { leader: hex(s.leaderId), uptime: goDuration(Date.now() - s.leaderSince.getTime()), startTime: s.leaderSince.toISOString() },
      recvAppendRequestCnt: s.recvAppendRequestCnt,
      sendAppendRequestCnt: s.sendAppendRequestCnt,
      term: s.term,
      commitIndex: s.commitIndex,
      appliedIndex: s.appliedIndex,
    });
  }
  if (which === 'leader') {
    const followers = node.followerStats();
    if (s.state !== StateType.Leader || !followers) return writeHttpError(res, 403, 'not current leader');
    const out: Record<string, unknown> = {};
    for (const [id, f] of followers) out[hex(id)] = f;
    return writeJson(res, 200, { leader: hex(s.id), followers: out });
  }
  writeJson(res, 404, { message: 'Not found' });
}

/** /v2/members: list, add (POST), remove (DELETE /id), update peer URLs (PUT /id). */
export async function handleMembers(req: IncomingMessage, res: ServerResponse, node: StoreNode, clusterId: string, rest: string, maxBytes: number): Promise<void> {
  const method = req.method ?? 'GET';
  if (!['GET', 'POST', 'DELETE', 'PUT'].includes(method)) return methodNotAllowed(res, ['GET', 'POST', 'DELETE', 'PUT']);
  res.setHeader('X-Etcd-Cluster-ID', clusterId);
  const id = rest.replace(/^\/+/, '');
  try {
    if (method === 'GET') {
      if (id === '') return writeJson(res, 200, { members: node.members().map(memberJSON) });
      if (id === 'leader') {
        const lead = node.status().leaderId;
        const m = node.members().find((x) => x.id === lead);
        if (!m) return writeHttpError(res, 503, 'During election');
        return writeJson(res, 200, memberJSON(m));
      }
      return writeHttpError(res, 404, 'Not found');
    }
    if (method === 'POST') {
      const body = await jsonBody(req, res, maxBytes);
      if (!body) return;
      const added = await node.addMember(body.peerURLs, body.isLearner === true);
      return writeJson(res, 201, memberJSON(added));
    }
    if (id === '') return writeHttpError(res, 405, 'Method Not Allowed');
    const numeric = /^[0-9a-fA-F]{1,16}$/.test(id) ? parseInt(id, 16) : NaN;
    if (!node.members().some((m) => m.id === numeric)) return writeHttpError(res, 404, `No such member: ${id}`);
    if (method === 'DELETE') {
      await node.removeMember(numeric);
    } else {
      const body = await jsonBody(req, res, maxBytes);
      if (!body) return;
      await node.updateMember(numeric, body.peerURLs);
    }
    res.writeHead(204).end();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    writeHttpError(res, /exists/i.test(message) ? 409 : 500, message);
  }
}

async function jsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<{ peerURLs: string[]; isLearner?: boolean } | null> {
  const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ctype !== 'application/json') {
    writeHttpError(res, 415, `Bad Content-Type ${ctype}, accept application/json`);
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readBody(req, maxBytes)).toString('utf8'));
  } catch (e) {
    writeHttpError(res, 400, e instanceof Error ? e.message : String(e));
    return null;
  }
  const urls = (parsed as { peerURLs?: unknown }).peerURLs;
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string' && /^https?:\/\/[^/]+$/.test(u))) {
    writeHttpError(res, 400, 'peerURLs must be a non-empty list of http(s)://host:port URLs');
    return null;
  }
  return { peerURLs: urls as string[], isLearner: (parsed as { isLearner?: boolean }).isLearner };
}
