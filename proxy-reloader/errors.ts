import { BerthError } from '../lib/errors.ts';

/** A template file, config file or route that cannot be used as written. */
export class ReloaderConfigError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_RELOADER_CONFIG', message, options);
  }
}

/** A check or reload command that failed, timed out or could not start. */
export class CommandFailedError extends BerthError {
  readonly command: string;
  readonly output: string;
  constructor(command: string, reason: string, output: string) {
    super('BERTH_RELOADER_COMMAND', `${command}: ${reason}${output ? `\n${output.trim()}` : ''}`);
    this.command = command;
    this.output = output;
  }
}

/** A template that Handlebars cannot compile or render. */
export class TemplateError extends BerthError {
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super('BERTH_RELOADER_TEMPLATE', `${source}: ${message}`, options);
  }
}
