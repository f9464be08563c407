import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** What one encryption stores beside the ciphertext: the key that made it and its nonce and tag. */
export interface Sealed {
  keyId: string;
  iv: Buffer;
  authTag: Buffer;
  ciphertext: Buffer;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** A key's id: the start of its SHA-256, so rows name their key without holding it. */
const idOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

/** A new key as CASCADE_SECRETS_KEY takes it: 32 random bytes, base64. */
export const newSecretKey = (): string => randomBytes(KEY_BYTES).toString('base64');

/**
 * The CASCADE_SECRETS_KEY list (comma-separated, base64 keys of 32 bytes): the first encrypts,
 * every one decrypts, so a rotation adds the new key in front and keeps the old one until
 * `npm run secrets:reencrypt` has moved every row to the new one.
 */
export class SecretKeys {
  private readonly keys: Map<string, Buffer>;
  private readonly current: string;

  constructor(list: string) {
    const keys = list
      .split(',')
      .map((each) => each.trim())
      .filter((each) => each !== '')
      .map((each) => Buffer.from(each, 'base64'));
    if (keys.length === 0 || keys.some((key) => key.length !== KEY_BYTES)) {
      throw new SecretKeyError(`CASCADE_SECRETS_KEY must be a comma-separated list of base64 keys of ${KEY_BYTES} bytes (openssl rand -base64 32)`);
    }
    this.keys = new Map(keys.map((key) => [idOf(key), key]));
    this.current = idOf(keys[0]!);
  }

  /** `context` (tenant and name) is authenticated with the value: a row copied under another name does not decrypt. */
  seal(value: string, context: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv).setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return { keyId: this.current, iv, authTag: cipher.getAuthTag(), ciphertext };
  }

  open(sealed: Sealed, context: string): string {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new SecretKeyError(`a secret was encrypted with key ${sealed.keyId}, which CASCADE_SECRETS_KEY no longer lists`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv).setAAD(Buffer.from(context)).setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  }

  isCurrent(keyId: string): boolean {
    return keyId === this.current;
  }
}
