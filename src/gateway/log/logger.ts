import type { Logger, LogLevel } from '../ports';
import { formatArg, type Redactor } from './redact';

/** Where formatted, already-redacted lines go (a LogOutputChannel, a file, an array in tests). */
export interface LogSink {
  write(level: LogLevel, line: string): void;
}

const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** A Logger that formats, redacts and forwards to a sink; `child(topic)` prefixes `[topic]`. */
export class RedactingLogger implements Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly redactor: Redactor,
    private readonly topic = '',
    private readonly minLevel: () => LogLevel = () => 'trace',
  ) {}

  private emit(level: LogLevel, message: string | Error, args: unknown[]): void {
    if (ORDER[level] < ORDER[this.minLevel()]) return;
    const text = [formatArg(message), ...args.map(formatArg)].join(' ');
    this.sink.write(level, this.redactor.redact(this.topic ? `[${this.topic}] ${text}` : text));
  }

  trace(message: string, ...args: unknown[]): void {
    this.emit('trace', message, args);
  }
  debug(message: string, ...args: unknown[]): void {
    this.emit('debug', message, args);
  }
  info(message: string, ...args: unknown[]): void {
    this.emit('info', message, args);
  }
  warn(message: string, ...args: unknown[]): void {
    this.emit('warn', message, args);
  }
  error(message: string | Error, ...args: unknown[]): void {
    this.emit('error', message, args);
  }

  child(topic: string): Logger {
    return new RedactingLogger(this.sink, this.redactor, this.topic ? `${this.topic}:${topic}` : topic, this.minLevel);
  }
}

/** Collects lines in memory (tests, and the headless gateway before its file sink is open). */
export class MemorySink implements LogSink {
  readonly lines: string[] = [];
  write(level: LogLevel, line: string): void {
    this.lines.push(`${level} ${line}`);
  }
}
