import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'pglite:./.data/opendci',
      baseUrl: 'http://localhost:8080',
      serverId: 'opendci',
      domains: ['social', 'crvs', 'ibr', 'dr', 'fr'],
      defaultDomain: 'social',
      receiverIds: undefined,
      keyEncryptionKey: undefined,
      allowInsecureCallbacks: false,
      role: 'all',
      logLevel: 'info',
      production: false,
    });
  });

  it('reads every variable', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u:p@db/x',
      DCI_BASE_URL: 'https://dci.example.org/',
      DCI_SERVER_ID: 'sr.example.org',
      DCI_DOMAINS: 'social, crvs',
      DCI_DEFAULT_DOMAIN: 'crvs',
      DCI_RECEIVER_IDS: 'a,b',
      DCI_KEY_ENCRYPTION_KEY: key,
      DCI_ALLOW_INSECURE_CALLBACKS: '1',
      DCI_ROLE: 'worker',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://u:p@db/x',
      baseUrl: 'https://dci.example.org',
      serverId: 'sr.example.org',
      domains: ['social', 'crvs'],
      defaultDomain: 'crvs',
      receiverIds: ['a', 'b'],
      allowInsecureCallbacks: true,
      role: 'worker',
      logLevel: 'debug',
    });
    expect(config.keyEncryptionKey).toEqual(Buffer.alloc(32, 7));
    expect(loadConfig({ PORT: '9000' }).baseUrl).toBe('http://localhost:9000');
  });

  it('reports every problem at once, readably', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        DCI_DOMAINS: 'social,health',
        DCI_DEFAULT_DOMAIN: 'crvs',
        DCI_KEY_ENCRYPTION_KEY: 'c2hvcnQ=',
        DCI_ALLOW_INSECURE_CALLBACKS: 'yes',
        DCI_ROLE: 'boss',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(8);
    expect(message).toMatch(/^invalid configuration:\n {2}- PORT must be an integer/);
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'DCI_DOMAINS',
      'DCI_DEFAULT_DOMAIN',
      'DCI_KEY_ENCRYPTION_KEY',
      'DCI_ALLOW_INSECURE_CALLBACKS',
      'DCI_ROLE',
      'LOG_LEVEL',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('requires a key encryption key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DCI_KEY_ENCRYPTION_KEY is required/);
  });
});
