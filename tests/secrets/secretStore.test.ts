import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrator.js';
import { DomainError } from '../../src/domain/errors.js';
import { newSecretKey, SecretKeys } from '../../src/secrets/secretKeys.js';
import { loadSecretKeys, secretsKeyPath } from '../../src/secrets/secretsKeyFile.js';
import { SecretStore } from '../../src/secrets/secretStore.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => (error as DomainError).code,
  );

describe.each(BACKENDS)('the secret store on $name', ({ create }) => {
  let backend: Backend;
  const [oldKey, newKey] = [newSecretKey(), newSecretKey()];
  beforeAll(async () => {
    backend = await create();
    await migrate(backend.db);
  });
  afterAll(() => backend.dispose());

  it('keeps values encrypted at rest, per tenant, and answers names and dates only', async () => {
    const store = new SecretStore(backend.db, new SecretKeys(oldKey));
    const info = await store.set('default', 'API_TOKEN', 'tok-at-rest-4711');
    expect(info).toEqual({ name: 'API_TOKEN', updatedAt: expect.any(String) });
    await store.set('other', 'API_TOKEN', 'someone-elses');
    expect(await store.list('default')).toEqual([info]);
    expect(await store.values('default')).toEqual({ API_TOKEN: 'tok-at-rest-4711' });
    const { rows } = await backend.db.query<{ row: string }>("SELECT s::text AS row FROM secrets s WHERE tenant_id = 'default'");
    expect(rows.map((each) => each.row).join()).toContain('API_TOKEN');
    expect(rows.map((each) => each.row).join()).not.toContain('tok-at-rest-4711');
    expect(rows.map((each) => each.row).join()).not.toContain(Buffer.from('tok-at-rest-4711').toString('hex'));
  });

  it('refuses a row moved under another name or tenant (the name is authenticated with the value)', async () => {
    const store = new SecretStore(backend.db, new SecretKeys(oldKey));
    await store.set('moved', 'A', 'value-of-a');
    await backend.db.query("UPDATE secrets SET name = 'B' WHERE tenant_id = 'moved'");
    await expect(store.values('moved')).rejects.toThrow();
  });

  it('rotates: a new key in front decrypts the old rows, and reencrypt moves them to it', async () => {
    await new SecretStore(backend.db, new SecretKeys(oldKey)).set('rotating', 'TOKEN', 'before-rotation');
    const both = new SecretStore(backend.db, new SecretKeys(`${newKey},${oldKey}`));
    expect(await both.values('rotating')).toEqual({ TOKEN: 'before-rotation' });
    // The three rows of the old key move; the one the test above moved under another name opens with no key: named, and left as it is.
    expect(await both.reencrypt()).toEqual({ moved: 3, unreadable: ['moved/B'] });
    expect(await both.reencrypt()).toEqual({ moved: 0, unreadable: ['moved/B'] });
    expect(await new SecretStore(backend.db, new SecretKeys(newKey)).values('rotating')).toEqual({ TOKEN: 'before-rotation' });
  });

  it('refuses bad names and values with BAD_USER_INPUT, and any write without a key with SECRETS_UNAVAILABLE', async () => {
    const store = new SecretStore(backend.db, new SecretKeys(newKey));
    for (const name of ['', '1ABC', 'has-dash', 'x'.repeat(129), 'a.b']) expect(await codeOf(store.set('default', name, 'v'))).toBe('BAD_USER_INPUT');
    expect(await codeOf(store.set('default', 'BIG', 'x'.repeat(64 * 1024 + 1)))).toBe('BAD_USER_INPUT');
    expect(await codeOf(new SecretStore(backend.db, null).set('default', 'OK', 'v'))).toBe('SECRETS_UNAVAILABLE');
    expect(await new SecretStore(backend.db, null).values('default')).toEqual({});
  });
});

describe('the secrets key', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cascade-secrets-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is made once in the data directory on the embedded default, readable by its owner only, and read again', async () => {
    const first = await loadSecretKeys({ secretsKey: null, databaseUrl: null, dataDir });
    expect(statSync(secretsKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    const sealed = first!.seal('kept', 'context');
    const again = await loadSecretKeys({ secretsKey: null, databaseUrl: null, dataDir });
    expect(again!.open(sealed, 'context')).toBe('kept');
  });

  it('is CASCADE_SECRETS_KEY when set, and none with DATABASE_URL and no key', async () => {
    const key = newSecretKey();
    const given = await loadSecretKeys({ secretsKey: key, databaseUrl: 'postgres://x', dataDir });
    expect(new SecretKeys(key).open(given!.seal('v', 'c'), 'c')).toBe('v');
    expect(await loadSecretKeys({ secretsKey: null, databaseUrl: 'postgres://x', dataDir })).toBeNull();
    expect(() => new SecretKeys('not a key')).toThrow(/CASCADE_SECRETS_KEY/);
  });
});
