/** Runs a private nginx in the foreground on loopback: its own prefix, pid file, logs and temp dirs. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GiveUp, startProcess, waitFor, type TestProcess } from '../../lib/testing/process.ts';

export const NGINX = '/usr/sbin/nginx';

export interface NginxInstance {
  prefix: string;
  conf: string;
  process: TestProcess;
  /** `nginx -t` for this instance. */
  testCommand: string;
  reloadCommand: string;
}

/** Writes `nginx.conf` into `prefix` (including `include` in http {}) and starts nginx. */
export async function startNginx(prefix: string, include: string, opts: { workers?: number; probePort?: number } = {}): Promise<NginxInstance> {
  for (const d of ['logs', 'tmp']) await mkdir(join(prefix, d), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  await writeFile(
    conf,
    `${user}worker_processes ${opts.workers ?? 1};
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    keepalive_requests 1000000;
${opts.probePort ? `    server { listen 127.0.0.1:${opts.probePort}; location / { return 204; } }\n` : ''}    include ${include};
}
`,
  );
  const args = ['-p', prefix, '-c', conf];
  const proc = startProcess(NGINX, [...args, '-g', 'daemon off;']);
  if (opts.probePort) {
    const port = opts.probePort;
    await waitFor('nginx up', async () => {
      if (proc.child.exitCode !== null) throw new GiveUp(`nginx exited: ${proc.output()}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/`)).status === 204;
      } catch {
        return false;
      }
    }, 10_000);
  }
  return { prefix, conf, process: proc, testCommand: `${NGINX} -t -q -p ${prefix} -c ${conf}`, reloadCommand: `${NGINX} -p ${prefix} -c ${conf} -s reload` };
}
