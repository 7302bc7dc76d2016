import { BerthError } from '../lib/errors.ts';

/** A template file, config file or route that cannot be used as written. */
export class ReloaderConfigError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_RELOADER_CONFIG', message, options);
  }
}

/** A template that Handlebars cannot compile or render. */
export class TemplateError extends BerthError {
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super('BERTH_RELOADER_TEMPLATE', `${source}: ${message}`, options);
  }
}
