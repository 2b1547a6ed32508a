/**
 * A stdio server's stderr, line by line, into the log: each line capped, the lines logged per
 * connection capped (a server that floods stderr costs one note, not the log), and the last lines
 * always kept so a crash or a failed start can quote them.
 */
import type { Logger } from '../ports';

export interface StderrTapOptions {
  maxLineChars?: number;
  /** Lines logged per connection; later lines are counted, kept in the tail, not logged. */
  maxLoggedLines?: number;
  /** Lines kept for error messages. */
  tailLines?: number;
}

export class StderrTap {
  private partial = '';
  private logged = 0;
  private dropped = 0;
  private readonly tail: string[] = [];
  private readonly maxLineChars: number;
  private readonly maxLoggedLines: number;
  private readonly tailLines: number;

  constructor(
    private readonly log: Logger,
    options: StderrTapOptions = {},
  ) {
    this.maxLineChars = options.maxLineChars ?? 1000;
    this.maxLoggedLines = options.maxLoggedLines ?? 500;
    this.tailLines = options.tailLines ?? 20;
  }

  write(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    // An endless line must not grow without bound either.
    if (this.partial.length > this.maxLineChars * 4) {
      lines.push(this.partial);
      this.partial = '';
    }
    for (const l of lines) this.line(l);
  }

  /** A note of our own about this server's output (e.g. junk on stdout), logged like a line. */
  note(text: string): void {
    this.log.warn(text);
  }

  /** The stream ended: flushes a partial last line and reports how much was not logged. */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    if (this.dropped) this.log.warn(`stderr: ${this.dropped} more lines were not logged`);
    this.dropped = 0;
  }

  /** The last lines (for an error message), joined; '' when the server wrote nothing. */
  tailText(maxChars = 2000): string {
    const t = this.tail.join('\n');
    return t.length > maxChars ? '…' + t.slice(t.length - maxChars) : t;
  }

  private line(raw: string): void {
    const l = raw.replace(/\r$/, '');
    if (!l.trim()) return;
    const capped = l.length > this.maxLineChars ? `${l.slice(0, this.maxLineChars)}… (${l.length} chars)` : l;
    this.tail.push(capped.length > 500 ? capped.slice(0, 500) + '…' : capped);
    if (this.tail.length > this.tailLines) this.tail.shift();
    if (this.logged < this.maxLoggedLines) {
      this.logged++;
      this.log.info(`stderr: ${capped}`);
      if (this.logged === this.maxLoggedLines) this.log.warn(`stderr: ${this.maxLoggedLines} lines logged; further lines are counted, not logged`);
    } else {
      this.dropped++;
    }
  }
}
