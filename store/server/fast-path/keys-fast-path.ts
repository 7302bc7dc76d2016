import { ALLOWED, type KeysHandler } from '../keys-handler.ts';
import type { ServerMetrics } from '../metrics.ts';
import { keysTarget, readTarget } from '../targets.ts';
import type { FastAnswerer } from './fast-connection.ts';

/**
 * The requests the fast path answers: /v2/keys reads and writes, in canonical form, that are
 * not watches. The keys handler reads and answers them as it does for node:http; a watch, any
 * other path and a method /v2/keys refuses go to node:http.
 */
export function keysFastPath(keys: KeysHandler, metrics: ServerMetrics): FastAnswerer {
  return (req) => {
    if (!ALLOWED.includes(req.method)) return null;
    const target = keysTarget(readTarget(req.target));
    if (!target) return null;
    const plan = keys.plan(req.method, target.keyPath, target.query, req.contentType, req.body);
    if ('request' in plan && plan.request.wait) return null;
    metrics.receivedRequest(req.method);
    if ('answer' in plan) return Promise.resolve(plan.answer);
    return keys.answer(plan.request, { method: req.method, headers: { authorization: req.authorization }, socket: req.socket }, target.authKey);
  };
}
