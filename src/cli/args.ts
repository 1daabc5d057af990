import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../domain/errors.js';

/** An integer argument; anything else is passed on as written, so the use case reports it with the field's name. */
export function int(value: string): number | string {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

/** For options that must be integers before anything else can happen. */
export function intOption(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** `SKU:QTY` pairs for reserve and fulfil. */
export function skuQty(field: string) {
  return (pairs: readonly string[]): { sku: string; qty: number | string }[] =>
    pairs.map((p, i) => {
      const at = p.lastIndexOf(':');
      if (at <= 0) throw ValidationError.field(`/${field}/${i}`, `"${p}" is not SKU:QTY`);
      return { sku: p.slice(0, at), qty: int(p.slice(at + 1)) };
    });
}


/** A whole number of the environment, at least `min`, or the default when unset. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw ValidationError.field(`/env/${name}`, `must be a whole number ${min === 0 ? '0 or more' : `above ${min - 1}`} (not "${value}")`);
  return n;
}

/** A switch of the environment: 1/true or 0/false, or the default when unset. */
export function envFlag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw ValidationError.field(`/env/${name}`, `must be 1 or 0 (not "${value}")`);
}
