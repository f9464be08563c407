import { createHash } from 'node:crypto';
import { isPayloadReference, payloadReference, type PayloadReference } from '../domain/payloadReference.js';
import { canonicalBytes } from './canonicalJson.js';
import { PayloadCache } from './payloadCache.js';
import type { PayloadStore } from './payloadStore.js';

/** PAYLOAD_INLINE_BYTES: values up to this size stay in the events; larger ones are stored once and referred to. */
export const DEFAULT_PAYLOAD_INLINE_BYTES = 256 * 1024;
/** Below a KiB a reference and its row cost more than the value. */
export const MIN_PAYLOAD_INLINE_BYTES = 1024;
/** 64 MiB: past it everything a node may output stays inline (as before large payloads were stored apart). */
export const MAX_PAYLOAD_INLINE_BYTES = 64 * 1024 * 1024;
/** Loaded and written values kept for the next attempt or query that needs them. */
const CACHE_BYTES = 64 * 1024 * 1024;

/** What a reference costs in an event, roughly: the size a value must exceed to be worth one. */
const REFERENCE_BYTES = 100;

interface Pending {
  key: string;
  hash: string;
  json: Buffer;
  value: unknown;
  reference: PayloadReference;
}

/**
 * Large payloads (DESIGN section 10): `externalize` replaces every part of a value larger than
 * the inline bound by a reference to a row of `payloads`, written before it returns (so that an
 * event never refers to a payload that is not stored); `resolve` puts the values back. Parts are
 * taken innermost first: a noop chain wraps its input in `{ <upstream>: ... }` at each step, and
 * the large value inside is the one payload, however many wrappers refer to it.
 */
export class Payloads {
  private readonly cache = new PayloadCache(CACHE_BYTES);
  private readonly loading = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: PayloadStore,
    readonly inlineBytes = DEFAULT_PAYLOAD_INLINE_BYTES,
  ) {}

  /** `value` with its large parts as references, once those are stored; the same value when nothing is large. */
  async externalize(tenantId: string, value: unknown): Promise<unknown> {
    const pending = new Map<string, Pending>();
    const { value: result } = this.walk(tenantId, value, pending);
    for (const each of pending.values()) {
      await this.store.put(tenantId, each.hash, each.reference.bytes, each.json);
      this.cache.remember(tenantId, each.key, each.value, each.reference);
    }
    return result;
  }

  /**
   * `value` with every reference replaced by what it refers to (loaded once, then cached): a
   * promise only when it holds one, so that the many small values cost no promise each.
   */
  resolve(tenantId: string, value: unknown): unknown {
    return hasReference(value) ? this.resolveParts(tenantId, value) : value;
  }

  private async resolveParts(tenantId: string, value: unknown): Promise<unknown> {
    if (isPayloadReference(value)) return this.load(tenantId, value);
    if (typeof value !== 'object' || value === null) return value;
    const entries: Array<[string, unknown]> = Object.entries(value);
    const resolved = await Promise.all(entries.map(([, part]) => (typeof part === 'object' && part !== null ? this.resolveParts(tenantId, part) : part)));
    if (resolved.every((part, index) => part === entries[index]![1])) return value;
    if (Array.isArray(value)) return resolved;
    return Object.fromEntries(entries.map(([key], index) => [key, resolved[index]]));
  }

  /** One load per payload at a time, however many fields ask for it at once. */
  private load(tenantId: string, reference: PayloadReference): Promise<unknown> {
    const key = keyOf(tenantId, reference.$cascadePayload);
    const cached = this.cache.value(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.read(tenantId, key, reference).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  private async read(tenantId: string, key: string, reference: PayloadReference): Promise<unknown> {
    const json = await this.store.get(tenantId, reference.$cascadePayload);
    if (json === null) throw new Error(`payload ${reference.$cascadePayload} of tenant ${tenantId} is not stored`);
    // A stored payload may hold references to smaller ones (its own large parts, stored first).
    const value = await this.resolve(tenantId, JSON.parse(json) as unknown);
    this.cache.remember(tenantId, key, value, reference);
    return value;
  }

  /** The value with its large parts replaced, and its size once they are (about what its JSON takes). */
  private walk(tenantId: string, value: unknown, pending: Map<string, Pending>): { value: unknown; bytes: number } {
    if (typeof value === 'string') {
      const bytes = Buffer.byteLength(value) + 2;
      return bytes > this.inlineBytes ? this.stored(tenantId, value, pending) : { value, bytes };
    }
    if (typeof value !== 'object' || value === null) return { value, bytes: String(value).length };
    if (isPayloadReference(value)) return { value, bytes: REFERENCE_BYTES };
    const known = this.cache.referenceOf(tenantId, value);
    if (known) return { value: known, bytes: REFERENCE_BYTES };
    const entries = Object.entries(value);
    let bytes = 2;
    let changed = false;
    const parts = entries.map(([key, part]) => {
      const walked = this.walk(tenantId, part, pending);
      bytes += walked.bytes + key.length + 4;
      changed ||= walked.value !== part;
      return walked.value;
    });
    const result = changed ? (Array.isArray(value) ? parts : Object.fromEntries(entries.map(([key], index) => [key, parts[index]]))) : value;
    return bytes > this.inlineBytes ? this.stored(tenantId, result, pending, value) : { value: result, bytes };
  }

  /** A reference to `value`, whose row is written by `externalize` unless this process knows it is stored. */
  private stored(tenantId: string, value: unknown, pending: Map<string, Pending>, original: unknown = value): { value: PayloadReference; bytes: number } {
    const known = this.cache.referenceOf(tenantId, value);
    if (known) return { value: known, bytes: REFERENCE_BYTES };
    const json = canonicalBytes(value);
    const hash = createHash('sha256').update(json).digest('hex');
    const reference = payloadReference(hash, json.length);
    const key = keyOf(tenantId, hash);
    if (!this.cache.isStored(key)) pending.set(key, { key, hash, json, value: original, reference });
    else this.cache.remember(tenantId, key, original, reference);
    return { value: reference, bytes: REFERENCE_BYTES };
  }
}

const keyOf = (tenantId: string, hash: string) => `${tenantId}\u0000${hash}`;

/** Whether a reference is anywhere in `value` (a walk that stops at the first). */
function hasReference(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (isPayloadReference(value)) return true;
  for (const part of Object.values(value)) if (hasReference(part)) return true;
  return false;
}
