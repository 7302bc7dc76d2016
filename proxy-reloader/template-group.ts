/**
 * One group of template resources: render all, and when something changed, check, install
 * atomically, run one reload, and roll everything back (and reload again) if the reload fails.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from '../lib/log.ts';
import { runCommand } from './command.ts';
import { install, readIfExists, restore, stage } from './install.ts';
import type { TemplateResource } from './resource.ts';
import type { KeyMap } from './services.ts';

/** What one pass over a group did. */
export type GroupOutcome =
  | { kind: 'unchanged' }
  | { kind: 'dry-run'; files: { dest: string; content: string }[] }
  | { kind: 'render-failed'; error: string }
  | { kind: 'check-failed'; command: string; output: string }
  | { kind: 'installed'; files: string[]; reloaded: boolean }
  | { kind: 'reload-failed'; command: string; output: string; rolledBack: boolean };

interface Change {
  res: TemplateResource;
  content: string;
  previous: string | null;
  staged?: string;
}

const fill = (cmd: string, vars: Record<string, string>) => cmd.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, k: string) => vars[k] ?? m);

export class TemplateGroup {
  /** Counters for tests and /status. */
  readonly stats = { renders: 0, checks: 0, reloads: 0, installs: 0, rollbacks: 0 };

  constructor(
    readonly name: string,
    readonly resources: readonly TemplateResource[],
    private readonly logger: Logger,
  ) {}

  private get reload(): string | undefined {
    return this.resources.find((r) => r.spec.reload)?.spec.reload;
  }

  private get timeoutMs(): number {
    return Math.max(...this.resources.map((r) => r.spec.commandTimeoutMs));
  }

  /** Renders and, unless `dryRun`, installs and reloads. Never throws for expected failures. */
  async apply(keys: KeyMap, dryRun = false): Promise<GroupOutcome> {
    this.stats.renders++;
    const changes: Change[] = [];
    try {
      for (const res of this.resources) {
        const content = res.renderWith(keys);
        const previous = await readIfExists(res.spec.dest);
        if (content !== previous) changes.push({ res, content, previous });
      }
    } catch (e) {
      this.logger.error({ group: this.name, error: (e as Error).message }, 'render failed, keeping the current files');
      return { kind: 'render-failed', error: (e as Error).message };
    }
    if (changes.length === 0) return { kind: 'unchanged' };
    if (dryRun) return { kind: 'dry-run', files: changes.map((c) => ({ dest: c.res.spec.dest, content: c.content })) };
    try {
      return await this.installAll(changes);
    } finally {
      await Promise.all(changes.map((c) => (c.staged ? rm(c.staged, { force: true }) : undefined)));
    }
  }

  private async check(command: string): Promise<{ ok: boolean; output: string }> {
    this.stats.checks++;
    const r = await runCommand(command, this.timeoutMs);
    const ok = r.code === 0 && !r.timedOut;
    if (!ok) this.logger.error({ group: this.name, command, code: r.code, timedOut: r.timedOut, output: r.output.trim() }, 'check failed, keeping the previous config');
    return { ok, output: r.output };
  }

  private async installAll(changes: Change[]): Promise<GroupOutcome> {
    for (const c of changes) {
      c.staged = await stage(c.res.spec.dest, c.content, c.res.spec.perms);
      const check = c.res.spec.check;
      if (check && /\{\{\s*file\s*\}\}/.test(check)) {
        const cmd = fill(check, { file: c.staged, dest: c.res.spec.dest });
        const r = await this.check(cmd);
        if (!r.ok) return { kind: 'check-failed', command: cmd, output: r.output };
      }
    }
    for (const c of changes) {
      await install(c.staged!, c.res.spec.dest, c.res.spec.mode);
      c.staged = undefined;
      this.stats.installs++;
    }
    const after = [...new Set(this.resources.map((r) => r.spec.check).filter((c): c is string => !!c && !/\{\{\s*file\s*\}\}/.test(c)))];
    for (const raw of after) {
      const cmd = fill(raw, {});
      const r = await this.check(cmd);
      if (!r.ok) {
        await this.rollback(changes);
        return { kind: 'check-failed', command: cmd, output: r.output };
      }
    }
    const files = changes.map((c) => c.res.spec.dest);
    const reload = this.reload;
    if (!reload) {
      this.logger.info({ group: this.name, files }, 'installed');
      return { kind: 'installed', files, reloaded: false };
    }
    this.stats.reloads++;
    const r = await runCommand(reload, this.timeoutMs);
    if (r.code === 0 && !r.timedOut) {
      this.logger.info({ group: this.name, files, command: reload }, 'installed and reloaded');
      return { kind: 'installed', files, reloaded: true };
    }
    this.logger.error({ group: this.name, command: reload, code: r.code, timedOut: r.timedOut, output: r.output.trim() }, 'reload failed, rolling back');
    await this.rollback(changes);
    this.stats.reloads++;
    const again = await runCommand(reload, this.timeoutMs);
    const rolledBack = again.code === 0 && !again.timedOut;
    if (!rolledBack) this.logger.error({ group: this.name, command: reload, output: again.output.trim() }, 'reload of the previous config failed too');
    return { kind: 'reload-failed', command: reload, output: r.output, rolledBack };
  }

  private async rollback(changes: Change[]): Promise<void> {
    this.stats.rollbacks++;
    for (const c of changes) await restore(c.res.spec.dest, c.previous, c.res.spec.mode, c.res.spec.perms);
  }
}
