/**
 * Machine metrics for the heartbeats: CPU use of the whole machine (from /proc/stat deltas, else the
 * load average), memory (MemAvailable when /proc/meminfo has it) and the disk holding MULTICLAW_HOME.
 */
import { readFileSync, statfsSync } from 'node:fs';
import * as os from 'node:os';
import type { InstanceMetrics } from '../../protocol/workspace/models';

export class MetricsSampler {
  private last: { idle: number; total: number } | undefined;

  constructor(private readonly diskPath: string) {}

  sample(now = Date.now()): InstanceMetrics {
    return { cpuPct: this.cpu(), ...memory(), ...disk(this.diskPath), at: new Date(now).toISOString() };
  }

  private cpu(): number {
    const t = cpuTimes();
    if (!t) return Math.min(100, (os.loadavg()[0] / Math.max(1, os.cpus().length)) * 100);
    const prev = this.last;
    this.last = t;
    if (!prev || t.total <= prev.total) return 0;
    const busy = 1 - (t.idle - prev.idle) / (t.total - prev.total);
    return Math.round(Math.max(0, Math.min(1, busy)) * 1000) / 10;
  }
}

function cpuTimes(): { idle: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    if (v.length < 4 || v.some((n) => !Number.isFinite(n))) return undefined;
    return { idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

function memory(): { memUsedBytes: number; memTotalBytes: number } {
  const total = os.totalmem();
  let available = os.freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: os.freemem() it is
  }
  return { memUsedBytes: Math.max(0, total - available), memTotalBytes: total };
}

function disk(p: string): { diskUsedBytes: number; diskTotalBytes: number } {
  try {
    const s = statfsSync(p);
    const total = s.blocks * s.bsize;
    return { diskUsedBytes: Math.max(0, total - s.bavail * s.bsize), diskTotalBytes: total };
  } catch {
    return { diskUsedBytes: 0, diskTotalBytes: 0 };
  }
}
