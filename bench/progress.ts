/** One status line on stderr: what runs now, and a bar for its progress. */
export class Progress {
  private label = '';
  private readonly tty = process.stderr.isTTY;

  start(label: string): void {
    this.label = label;
    if (this.tty) this.draw(0);
    else process.stderr.write(`… ${label}\n`);
  }

  update(fraction: number): void {
    if (this.tty) this.draw(fraction);
  }

  done(summary: string): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`✔ ${this.label}: ${summary}\n`);
  }

  private draw(fraction: number): void {
    const width = 30;
    const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
    process.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.label}`);
  }
}
