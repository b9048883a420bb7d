import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, redactPersonal, stripQuery } from './log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

const PERSONAL = {
  name: 'Jeanne Dupont',
  firstName: 'Jeanne',
  lastName: 'Dupont',
  birthName: 'MARTIN',
  email: 'jeanne.dupont@example.fr',
  phone: '+33612345678',
  birthDate: '1980-04-12',
  password: 'correct horse battery staple',
  token: 'tok_4f7b2c9d1e',
  totpSecret: 'JBSWY3DPEHPK3PXP',
  ins: '180047512345678',
};

describe('log redaction', () => {
  it('never writes names, e-mails, phones, birth dates, tokens or passwords, at any depth', () => {
    const { logger, lines } = capture();
    logger.info(PERSONAL, 'top level');
    logger.info({ patient: PERSONAL }, 'one level');
    logger.info({ body: { patient: PERSONAL } }, 'two levels');
    logger.info({ a: { b: { patient: PERSONAL } } }, 'three levels');
    logger.info({ req: { headers: { authorization: 'Bearer hyg_secret123', cookie: 'hygie_session=abc123' } } }, 'headers');
    const out = lines.join('');
    for (const value of Object.values(PERSONAL)) expect(out).not.toContain(value);
    expect(out).not.toContain('hyg_secret123');
    expect(out).not.toContain('abc123');
    // Redaction keeps the record (ids and messages stay useful).
    expect(lines).toHaveLength(5);
    expect(out).toContain('[redacted]');
    expect(out).toContain('three levels');
  });

  it('redacts in arrays, errors, child bindings and deeper than any fixed list of paths', () => {
    const { logger, lines } = capture();
    logger.info({ patients: [PERSONAL, { id: 'p2', contact: { email: PERSONAL.email } }] }, 'array');
    logger.info({ a: { b: { c: { d: { e: { f: { patient: PERSONAL } } } } } } }, 'six levels');
    logger.error({ err: Object.assign(new Error('delivery refused'), { email: PERSONAL.email, details: { phone: PERSONAL.phone } }) }, 'error');
    logger.warn({ failure: Object.assign(new TypeError('bad row'), { lastName: PERSONAL.lastName }) }, 'nested error');
    logger.child({ email: PERSONAL.email, requestId: 'r-1' }).info({ name: PERSONAL.name }, 'child');
    const out = lines.join('');
    for (const value of Object.values(PERSONAL)) expect(out).not.toContain(value);
    expect(lines).toHaveLength(5);
    const [array, deep, error, , child] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(array!['patients']).toEqual([expect.objectContaining({ email: '[redacted]' }), { id: 'p2', contact: { email: '[redacted]' } }]);
    expect(JSON.stringify(deep)).toContain('[redacted]');
    // The error serializer still sees an Error: its message and stack are kept.
    expect(error!['err']).toMatchObject({ type: 'Error', message: 'delivery refused', email: '[redacted]', details: { phone: '[redacted]' } });
    expect(String((error!['err'] as { stack: string }).stack)).toContain('delivery refused');
    expect(child).toMatchObject({ requestId: 'r-1', email: '[redacted]', name: '[redacted]', msg: 'child' });
  });

  it('never alters what the caller logged, and copies only what it redacts', () => {
    const shared = { id: 'kept', tags: ['a', 'b'] };
    const input = { patient: { email: PERSONAL.email, shared }, other: shared };
    const out = redactPersonal(input) as typeof input;
    expect(input.patient.email).toBe(PERSONAL.email);
    expect(out.patient.email).toBe('[redacted]');
    expect(out.other).toBe(shared);
    expect(out.patient.shared).toBe(shared);
    const clean = { a: { b: [1, 2, { c: 'x' }] } };
    expect(redactPersonal(clean)).toBe(clean);
    // Past its depth bound a value is dropped rather than walked without end (cycles included).
    const cycle: Record<string, unknown> = { id: 'c' };
    cycle['self'] = cycle;
    expect(JSON.stringify(redactPersonal(cycle))).toContain('[redacted: too deep]');
  });

  it('keeps ids and non-personal fields', () => {
    const { logger, lines } = capture();
    logger.info({ patientId: '0190-abc', action: 'read', establishmentId: 'e1' }, 'access');
    expect(JSON.parse(lines[0]!)).toMatchObject({ patientId: '0190-abc', action: 'read', establishmentId: 'e1' });
  });

  it('logs request paths without their query strings', () => {
    expect(stripQuery('/api/v1/establishments/e/patients?lastName=DUPONT&birthDate=1980-04-12')).toBe('/api/v1/establishments/e/patients');
    expect(stripQuery('/health')).toBe('/health');
  });
});
