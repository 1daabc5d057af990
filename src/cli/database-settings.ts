import { ValidationError } from '../domain/errors.js';
import { withoutPassword } from '../domain/secrets.js';
import { sqlState } from '../store/db.js';

/** The failure itself, or the first failure underneath it a driver or a wrapper kept as its cause. */
function* causes(error: unknown): Generator {
  for (let depth = 0; depth < 5 && error !== undefined && error !== null; depth++) {
    yield error;
    error = (error as { cause?: unknown }).cause;
  }
}

/**
 * What a failure to connect to the server DATABASE_URL names says about the URL, when the URL is what is wrong: a
 * database that does not exist, an SSL mode the server does not speak, a user or password it refuses. These are
 * the operator's setting to change (exit 2), not a bug of stockroom's (3) nor an outage that passes (4).
 * Undefined for any other failure.
 */
export function databaseSettingError(error: unknown, env: NodeJS.ProcessEnv): ValidationError | undefined {
  const url = env.DATABASE_URL;
  if (!url) return undefined;
  const shown = withoutPassword(url);
  for (const failure of causes(error)) {
    const state = sqlState(failure);
    const message = failure instanceof Error ? failure.message : '';
    if (state === '3D000')
      return ValidationError.field(
        '/env/DATABASE_URL',
        `${shown} names a database the server does not have (${message}): create it (createdb) or correct the URL`,
      );
    // node-postgres says so in its own words, with no SQLSTATE: sslmode=require against a server without SSL
    if (/does not support SSL/i.test(message))
      return ValidationError.field(
        '/env/DATABASE_URL',
        `${shown}: the server does not accept SSL connections; correct sslmode in the URL, or enable SSL on the server`,
      );
    // invalid_authorization_specification (no pg_hba.conf entry, SSL required) and invalid_password
    if (state === '28000' || state === '28P01')
      return ValidationError.field('/env/DATABASE_URL', `${shown}: the server refused the connection (${message})`);
  }
  return undefined;
}
