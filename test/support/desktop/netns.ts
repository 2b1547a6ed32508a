/**
 * Runs a Node script in a private network namespace: lo plus a veth pair whose 198.51.100.1/24
 * (TEST-NET-2) exists only in there — Chromium gathers no ICE candidates on loopback, and nothing can
 * leave the namespace. Needs root (`unshare -n`). The script's last stdout line is its JSON result.
 */
import { execFile, execFileSync } from 'node:child_process';

export const canUseNetns = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Whether the Debian tools the desktop needs are installed (scripts/setup-test-env.sh installs them). */
export const hasDesktopTools = ((): boolean => {
  for (const t of [
    ['Xvfb', '-help'],
    ['ffmpeg', '-version'],
    ['xdotool', 'version'],
    ['turnserver', '--version'],
    ['openbox', '--version'],
  ]) {
    try {
      execFileSync('sh', ['-c', `command -v ${t[0]}`], { stdio: 'ignore' });
    } catch {
      return false;
    }
  }
  return true;
})();

export function runInNetns(
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ result: Record<string, unknown>; stdout: string; stderr: string }> {
  const setup = [
    'ip link set lo up',
    'ip link add v0 type veth peer name v1',
    'ip addr add 198.51.100.1/24 dev v0',
    'ip link set v0 up',
    'ip link set v1 up',
    `exec "${process.execPath}" --enable-source-maps "${script}"`,
  ].join(' && ');
  return new Promise((resolve, reject) => {
    execFile(
      'unshare',
      ['-n', 'sh', '-c', setup],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        let result: Record<string, unknown> | undefined;
        try {
          result = JSON.parse(last) as Record<string, unknown>;
        } catch {
          result = undefined;
        }
        if (!result) reject(new Error(`${err?.message ?? 'no result'}\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`));
        else resolve({ result, stdout, stderr });
      },
    );
  });
}
