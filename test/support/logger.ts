import { MemorySink, RedactingLogger } from '../../src/gateway/log/logger';
import { Redactor } from '../../src/gateway/log/redact';
import type { Logger, LogLevel } from '../../src/gateway/ports';

/**
 * The product's own logger (formatting, redaction, topics) writing to memory: `lines` as written
 * (`"<level> [topic] text"`), `entries` split by level.
 */
export class MemoryLogger implements Logger {
  readonly sink = new MemorySink();
  private readonly inner: RedactingLogger;

  constructor(readonly redactor = new Redactor()) {
    this.inner = new RedactingLogger(this.sink, redactor);
  }

  get lines(): string[] {
    return this.sink.lines;
  }

  get entries(): Array<{ level: LogLevel; text: string }> {
    return this.sink.lines.map((l) => {
      const i = l.indexOf(' ');
      return { level: l.slice(0, i) as LogLevel, text: l.slice(i + 1) };
    });
  }

  trace(message: string, ...args: unknown[]): void {
    this.inner.trace(message, ...args);
  }
  debug(message: string, ...args: unknown[]): void {
    this.inner.debug(message, ...args);
  }
  info(message: string, ...args: unknown[]): void {
    this.inner.info(message, ...args);
  }
  warn(message: string, ...args: unknown[]): void {
    this.inner.warn(message, ...args);
  }
  error(message: string | Error, ...args: unknown[]): void {
    this.inner.error(message, ...args);
  }
  child(topic: string): Logger {
    return this.inner.child(topic);
  }
}
