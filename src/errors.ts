// A user's mistake: printed by the CLI as one line with exit code 2, never a stack trace.
// Any layer may throw it; the message says what was wrong and what to do.
export class UsageError extends Error {}

/** Parse a positive integer option, or say which option was wrong and how. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`${name} must be a positive integer, got '${value}'`);
    }
    return n;
  };
}

/** Parse a number option (2e6 and 0.5 welcome), positive or at least zero. */
export function numberOption(name: string, { allowZero = false } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) {
      throw new UsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got '${value}'`);
    }
    return n;
  };
}

/** Parse a TCP port (0 asks the system for a free one). */
export function portOption(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got '${value}'`);
  return n;
}
