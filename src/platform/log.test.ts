import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, stripQuery } from './log.js';

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
