/** The one error type services throw; REST and WSS turn it into the documented error body. */
import { clip } from '../protocol/jsonLimits';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '../protocol/workspace/common';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toBody(): ErrorBody {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export const notFound = (what: string): ApiError => new ApiError('not_found', `${what} not found`);
export const forbidden = (message = 'your role does not allow this'): ApiError => new ApiError('forbidden', message);

/**
 * zod issues → `details.issues` (path and message only: never the input, which may hold a secret).
 * Both are clipped: a path holds the client's keys, and a message may quote one (unknown keys).
 */
export function validationError(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code: string }>, where: string): ApiError {
  return new ApiError('validation_failed', `invalid ${where}`, {
    issues: issues.slice(0, 20).map((i) => ({ path: clip(i.path.map(String).join('.'), 200), message: clip(i.message, 200), code: i.code })),
  });
}

/** The message of anything thrown: `err.message` for an Error, else its string form. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
