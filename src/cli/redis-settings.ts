import { ValidationError } from '../domain/errors.js';
import { urlProtocol } from './args.js';

/**
 * REDIS_URL as ioredis takes it: a redis:// or rediss:// URL, or none. Refused by name without its text, which may
 * hold a password (ioredis would say only "Invalid URL", or read a bare word as a host).
 */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.REDIS_URL;
  if (value === undefined || value === '') return undefined;
  const protocol = urlProtocol(value);
  if (protocol !== 'redis:' && protocol !== 'rediss:')
    throw ValidationError.field(
      '/env/REDIS_URL',
      'must be a redis:// or rediss:// URL (host, port from 1 to 65535, database number)',
    );
  return value;
}
