// cross-spawn (a dependency of the MCP SDK too) resolves Windows `.cmd` shims such as `npx.cmd`,
// which a plain spawn without a shell refuses (EINVAL) since Node's 2024 security change.
declare module 'cross-spawn' {
  import type { ChildProcess, SpawnOptions } from 'node:child_process';
  function spawn(command: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
  export = spawn;
}
