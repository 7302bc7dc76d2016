/**
 * `berth proxy-reloader`: keeps a load balancer current from the store, by rendering templates
 * and reloading (template mode), by running its own HTTP proxy (--listen/--route), or both.
 */
import { formatHelp, parseConfig } from '../lib/config.ts';
import { createRootLogger } from '../lib/log.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';
import { loadConfigFile, type FileConfig } from './config-file.ts';
import { flagSpecs, settingsFrom, type RawFlags, type Settings } from './flags.ts';
import { ProxyMode } from './proxy-mode.ts';
import type { GroupOutcome } from './template-group.ts';
import { TemplateMode } from './template-mode.ts';

const USAGE = `usage: berth proxy-reloader [--config FILE] [flags]

  template mode:  berth proxy-reloader --store http://127.0.0.1:2379 \\
                    --template templates/nginx-upstreams.conf.hbs:/etc/nginx/conf.d/berth.conf \\
                    --check 'nginx -t' --reload 'nginx -s reload' --wait 200ms:2s
  built-in proxy: berth proxy-reloader --store http://127.0.0.1:2379 --listen 127.0.0.1:8080 \\
                    --route web.example=/services/web --route /api/=/services/api

Precedence: flags > environment > config file > defaults (unlike etcd, a config file does
not make flags and environment ignored).`;

const failed = (o: GroupOutcome) => o.kind === 'render-failed' || o.kind === 'check-failed' || o.kind === 'reload-failed';

async function loadSettings(flags: RawFlags): Promise<{ settings: Settings; file: FileConfig | null }> {
  const file = flags.config ? await loadConfigFile(flags.config) : null;
  return { settings: settingsFrom(flags, file), file };
}

/** Entry point; resolves with the exit code (only bin/ exits the process). */
export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseConfig<RawFlags>(flagSpecs, argv, process.env, { allowPositionals: false });
  if (help) {
    process.stdout.write(formatHelp(USAGE, flagSpecs) + '\n');
    return 0;
  }
  const { settings } = await loadSettings(flags);
  const root = createRootLogger({ level: flags.logLevel });
  const logger = root.child({ component: 'proxy-reloader' });
  if (settings.resources.length === 0 && !settings.listen) {
    process.stderr.write('berth proxy-reloader: nothing to do: give --template, --listen with --route, or --config\n');
    return 2;
  }
  const kv = new HttpKvBackend({ endpoints: settings.store, logger: root.child({ component: 'kv-client' }) });
  let exitCode = 0;
  const templates = settings.resources.length
    ? new TemplateMode({
        kv,
        prefixes: settings.watch,
        resources: settings.resources,
        wait: settings.wait,
        maxRemovalPct: settings.maxRemovalPct,
        removalGraceMs: settings.removalGraceMs,
        dryRun: settings.dryRun,
        logger: root.child({ component: 'templates' }),
        onPass: (outcomes) => {
          for (const o of outcomes.values()) {
            if (failed(o)) exitCode = 1;
            if (o.kind === 'dry-run') for (const f of o.files) process.stdout.write(`--- ${f.dest}\n${f.content}`);
          }
        },
      })
    : null;
  const proxy = settings.listen
    ? new ProxyMode({
        kv,
        routes: settings.routes,
        listenHost: settings.listen.host,
        listenPort: settings.listen.port,
        strategy: settings.strategy,
        maxFails: settings.maxFails,
        ejectMs: settings.ejectMs,
        connectTimeoutMs: settings.connectTimeoutMs,
        health: settings.health,
        maxRemovalPct: settings.maxRemovalPct,
        removalGraceMs: settings.removalGraceMs,
        statusPath: settings.statusPath,
        stickyCookie: settings.stickyCookie,
        slowStartMs: settings.slowStartMs,
        logger: root.child({ component: 'proxy' }),
      })
    : null;

  if (settings.once || settings.dryRun) {
    if (templates) {
      await templates.start();
      await templates.stop();
    }
    await kv.close();
    return exitCode;
  }
  await proxy?.start();
  await templates?.start();
  logger.info({ templates: settings.resources.length, routes: settings.routes.length, store: settings.store }, 'running');

  const onHup = () => {
    if (!flags.config || !templates) return;
    loadSettings(flags)
      .then(({ settings: s }) => templates.reloadResources(s.resources))
      .catch((e: unknown) => logger.error({ error: (e as Error).message }, 'config re-read failed, keeping the previous one'));
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.off('SIGHUP', onHup);
  logger.info({}, 'stopping');
  await Promise.all([templates?.stop(), proxy?.stop()]);
  await kv.close();
  return 0;
}
