import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, '/srv/hygie');
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: path.resolve('/srv/hygie/.hygie'),
      redisUrl: undefined,
      smtpUrl: undefined,
      publicUrl: 'http://127.0.0.1:3000',
      trustProxy: [],
      logLevel: 'info',
      dbAppRole: 'hygie_app',
      syslogUrl: undefined,
    });
  });

  it('reads the syslog collector for security alerts, tcp://, tls:// or udp://', () => {
    expect(loadConfig({ HYGIE_SYSLOG_URL: 'tls://siem.example.fr:6514' }).syslogUrl).toBe('tls://siem.example.fr:6514');
    expect(loadConfig({ HYGIE_SYSLOG_URL: 'udp://siem:514' }).syslogUrl).toBe('udp://siem:514');
    expect(() => loadConfig({ HYGIE_SYSLOG_URL: 'http://siem:514' })).toThrow(/HYGIE_SYSLOG_URL/);
  });

  it('forwards audit events only to configured collectors it is told to', () => {
    const secret = 'x'.repeat(32);
    expect(loadConfig({}).forwardAudit).toEqual([]);
    expect(loadConfig({ HYGIE_SYSLOG_URL: 'tcp://siem:601', HYGIE_WEBHOOK_URL: 'https://soc.example.fr/h', HYGIE_WEBHOOK_SECRET: secret, HYGIE_FORWARD_AUDIT: 'syslog, webhook' }).forwardAudit).toEqual(['syslog', 'webhook']);
    expect(() => loadConfig({ HYGIE_FORWARD_AUDIT: 'syslog' })).toThrow(/HYGIE_SYSLOG_URL is not set/);
    expect(() => loadConfig({ HYGIE_SYSLOG_URL: 'tcp://siem:601', HYGIE_FORWARD_AUDIT: 'kafka' })).toThrow(/HYGIE_FORWARD_AUDIT/);
  });

  it('reads the alert webhook with its signing secret, both or neither', () => {
    const secret = 'x'.repeat(32);
    expect(loadConfig({ HYGIE_WEBHOOK_URL: 'https://soc.example.fr/hygie', HYGIE_WEBHOOK_SECRET: secret }).webhook).toEqual({ url: 'https://soc.example.fr/hygie', secret });
    expect(() => loadConfig({ HYGIE_WEBHOOK_URL: 'https://soc.example.fr/hygie' })).toThrow(/go together/);
    expect(() => loadConfig({ HYGIE_WEBHOOK_URL: 'https://soc.example.fr/hygie', HYGIE_WEBHOOK_SECRET: 'short' })).toThrow(/32 characters/);
  });

  it('reads every variable', () => {
    const c = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgres://u@db:5432/hygie',
        HYGIE_DATA_DIR: '/var/lib/hygie',
        REDIS_URL: 'redis://cache:6379',
        HYGIE_PUBLIC_URL: 'https://rdv.example.fr/',
        SMTP_URL: 'smtp://mail:25',
        HYGIE_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1',
        HYGIE_LOG_LEVEL: 'warn',
      },
      '/',
    );
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgres://u@db:5432/hygie',
      dataDir: '/var/lib/hygie',
      redisUrl: 'redis://cache:6379',
      publicUrl: 'https://rdv.example.fr',
      smtpUrl: 'smtp://mail:25',
      trustProxy: ['10.0.0.1', '192.168.0.0/16', '::1'],
      logLevel: 'warn',
    });
  });

  it('reports one line per bad value, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        REDIS_URL: 'http://x',
        SMTP_URL: 'mail.example.fr',
        HYGIE_TRUST_PROXY: '10.0.0.1,not-an-ip,10.0.0.0/40',
        HYGIE_LOG_LEVEL: 'loud',
        HYGIE_PUBLIC_URL: 'ftp://x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(8);
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'HYGIE_LOG_LEVEL', 'HYGIE_PUBLIC_URL']) {
      expect(problems.filter((p) => p.startsWith(name))).toHaveLength(1);
    }
    expect(problems.filter((p) => p.startsWith('HYGIE_TRUST_PROXY'))).toHaveLength(2);
    expect(problems.every((p) => !p.includes('\n'))).toBe(true);
  });

  it('refuses an out-of-range port and an unsafe role name', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ HYGIE_DB_APP_ROLE: 'app; drop table x' })).toThrow(/HYGIE_DB_APP_ROLE/);
  });
});
