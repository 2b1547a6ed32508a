import type * as vscode from 'vscode';
import { RedactingLogger, type LogSink } from '../gateway/log/logger';
import type { Redactor } from '../gateway/log/redact';
import type { Logger, LogLevel } from '../gateway/ports';

/** Writes already-redacted lines to the "MultiClaw" LogOutputChannel (which adds time and level). */
class ChannelSink implements LogSink {
  constructor(private readonly channel: vscode.LogOutputChannel) {}
  write(level: LogLevel, line: string): void {
    this.channel[level](line);
  }
}

export function createLogger(channel: vscode.LogOutputChannel, redactor: Redactor): Logger {
  return new RedactingLogger(new ChannelSink(channel), redactor);
}
