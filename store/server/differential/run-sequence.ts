import type { Sequence, Step } from './sequences.ts';
import { capture, type Captured } from './normalize.ts';

export interface StepResult {
  step: string;
  result: Captured;
}

function substitute(s: string, vars: Map<string, number>): string {
  return s.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const v = vars.get(name);
    if (v === undefined) throw new Error(`sequence uses \${${name}} before capturing it`);
    return String(v);
  });
}

async function currentIndex(url: string): Promise<number> {
  const res = await fetch(`${url}/v2/keys/`);
  await res.arrayBuffer();
  return Number(res.headers.get('x-etcd-index'));
}

/** Runs one sequence against one store (`url`), keys under `prefix`. */
export async function runSequence(url: string, seq: Sequence, prefix: string): Promise<StepResult[]> {
  const base = await currentIndex(url);
  const vars = new Map<string, number>();
  const background = new Map<string, { label: string; res: Promise<Response> }>();
  const out: StepResult[] = [];
  const send = (step: Step): Promise<Response> => {
    const path = substitute(step.path.replace(/^\/K(?=\/|\?|$)/, prefix), vars);
    const init: RequestInit = { method: step.method, signal: AbortSignal.timeout(20_000) };
    if (step.form) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(step.form)) form.set(k, substitute(v, vars));
      init.body = form;
    } else if (step.raw) {
      init.body = step.raw.body;
      init.headers = { 'content-type': step.raw.type };
    }
    return fetch(`${url}/v2/keys${path}`, init);
  };
  for (const step of seq.steps) {
    if (step.sleepMs) await new Promise((r) => setTimeout(r, step.sleepMs));
    if (step.await) {
      const bg = background.get(step.await)!;
      out.push({ step: `await ${bg.label}`, result: await capture(await bg.res, base) });
      continue;
    }
    const label = `${step.method} ${step.path}${step.form ? ' ' + JSON.stringify(step.form) : ''}`;
    if (step.background) {
      background.set(step.background, { label, res: send(step) });
      await new Promise((r) => setTimeout(r, 150)); // let the watch register
      continue;
    }
    const res = await send(step);
    const result = await capture(res, base);
    if (step.capture) {
      // Keep the store's own (un-normalized) index: later steps send it back to the same store.
      const body = result.body as { node?: { modifiedIndex?: number } }[];
      vars.set(step.capture, (body[0]?.node?.modifiedIndex ?? 0) + base);
    }
    out.push({ step: label, result });
  }
  return out;
}
