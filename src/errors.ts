/**
 * Every error Squall raises on purpose carries a stable code, a message meant for humans and
 * enough context to find the cause (file, field, parameter, id). `status` is the HTTP status the
 * API answers with when the error reaches it.
 */
export class SquallError extends Error {
  readonly code: string;
  readonly context: Record<string, unknown>;
  readonly status: number;

  constructor(code: string, message: string, context: Record<string, unknown> = {}, status = 400) {
    super(message);
    this.name = 'SquallError';
    this.code = code;
    this.context = context;
    this.status = status;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export class NotFoundError extends SquallError {
  constructor(kind: string, id: string, context: Record<string, unknown> = {}) {
    super('NOT_FOUND', `${kind} "${id}" was not found`, { kind, id, ...context }, 404);
  }
}

export class ValidationError extends SquallError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('VALIDATION', message, context, 400);
  }
}

export class ConflictError extends SquallError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('CONFLICT', message, context, 409);
  }
}

export class PermissionError extends SquallError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('FORBIDDEN', message, context, 403);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
