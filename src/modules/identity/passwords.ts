// argon2id password hashing (ASVS 11.4.2). Parameters are the OWASP minimum for argon2id
// (m=19 MiB, t=2, p=1); needsRehash() lets login upgrade older hashes.
import { hash, verify } from '@node-rs/argon2';

export const ARGON2_PARAMS = { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash must read as "wrong password", never as an error path that a
    // caller could tell apart by timing or status.
    return false;
  }
}

export function needsRehash(passwordHash: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
  if (!m) return true;
  return Number(m[1]) < ARGON2_PARAMS.memoryCost || Number(m[2]) < ARGON2_PARAMS.timeCost;
}
