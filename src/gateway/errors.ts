/**
 * Errors the gateway's callers test for. Imported by both bundles (the extension's and the lazily
 * loaded runtime), so compare by `name`, never with `instanceof`.
 */

export class GatewayNotRunningError extends Error {
  constructor() {
    super('The MultiClaw gateway is not running. Run "MultiClaw: Start Gateway".');
    this.name = 'GatewayNotRunningError';
  }
}

/** True for a GatewayNotRunningError from either bundle (extension and runtime each have a copy). */
export function isGatewayNotRunning(err: unknown): err is GatewayNotRunningError {
  return err instanceof Error && err.name === 'GatewayNotRunningError';
}

/** The message of anything thrown: `err.message` for an Error, else its string form. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
