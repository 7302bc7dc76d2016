/** A template resource: a Handlebars source rendered into a destination file. */
import { readFile } from 'node:fs/promises';
import type Handlebars from 'handlebars';
import { TemplateError } from './errors.ts';
import type { KeyMap } from './services.ts';
import { compileTemplate } from './template-helpers.ts';

/** One template as configured (paths already resolved). */
export interface ResourceSpec {
  source: string;
  dest: string;
  /**
   * Check command. With `{{file}}` it runs on the staged file before anything is installed;
   * without, it runs after install and a failure restores the previous file (no reload).
   */
  check?: string;
  reload?: string;
  /** Resources of one group get one check and one reload; default: grouped by reload command. */
  group?: string;
  /** rename: atomic replace; inplace: rewrite the file (single-file bind mounts). */
  mode: 'rename' | 'inplace';
  /** File mode for new files, e.g. 0o644. */
  perms: number;
  /** Timeout for the check and reload commands. */
  commandTimeoutMs: number;
  /** Extra variables the template sees as its context. */
  vars: Record<string, unknown>;
}

/** A compiled resource. */
export class TemplateResource {
  private render!: (keys: KeyMap, vars?: Record<string, unknown>) => string;

  private constructor(readonly spec: ResourceSpec) {}

  static async load(hb: typeof Handlebars, spec: ResourceSpec): Promise<TemplateResource> {
    const r = new TemplateResource(spec);
    let text: string;
    try {
      text = await readFile(spec.source, 'utf8');
    } catch (e) {
      throw new TemplateError(spec.source, `cannot read the template: ${(e as Error).message}`, { cause: e });
    }
    try {
      r.render = compileTemplate(hb, text);
      r.render(new Map()); // compile errors surface at load time, not at the first change
    } catch (e) {
      throw new TemplateError(spec.source, (e as Error).message, { cause: e });
    }
    return r;
  }

  /** The file's content for this view of the store. */
  renderWith(keys: KeyMap): string {
    try {
      return this.render(keys, this.spec.vars);
    } catch (e) {
      throw new TemplateError(this.spec.source, (e as Error).message, { cause: e });
    }
  }

  /** The group key: one check and one reload per group. */
  get groupKey(): string {
    return this.spec.group ?? `reload:${this.spec.reload ?? ''}`;
  }
}
