import type { PayloadReference } from '../domain/payloadReference.js';

interface Entry {
  key: string;
  value: unknown;
  bytes: number;
}

/** A value's reference in one tenant: the same value in another tenant is another row (and hashed again there). */
interface Known {
  tenantId: string;
  reference: PayloadReference;
}

/** Keys of payloads known to be stored, kept after their values leave: enough to skip resending one. */
const MAX_KNOWN_KEYS = 10_000;

/**
 * What this process knows of stored payloads: the values it loaded or wrote lately (least
 * recently used leave first, within a byte budget, so that memory stays flat), which values are
 * which references (by identity: an object passed on by a chain of nodes is hashed once), and
 * which payloads are stored (no second write).
 */
export class PayloadCache {
  private readonly values = new Map<string, Entry>();
  private readonly strings = new Map<string, Known>();
  private readonly objects = new WeakMap<object, Known>();
  private readonly known = new Set<string>();
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  value(key: string): unknown {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    this.values.delete(key);
    this.values.set(key, entry);
    return entry.value;
  }

  /** The reference a value already has, when this process stored or loaded that very value. */
  referenceOf(tenantId: string, value: unknown): PayloadReference | undefined {
    const known = typeof value === 'string' ? this.strings.get(value) : typeof value === 'object' && value !== null ? this.objects.get(value) : undefined;
    return known?.tenantId === tenantId ? known.reference : undefined;
  }

  isStored(key: string): boolean {
    return this.known.has(key);
  }

  /** A payload that is stored: its key is known, and its value kept while the budget allows. */
  remember(tenantId: string, key: string, value: unknown, reference: PayloadReference): void {
    this.known.delete(key);
    this.known.add(key);
    if (this.known.size > MAX_KNOWN_KEYS) this.known.delete(this.known.keys().next().value!);
    if (typeof value === 'object' && value !== null) this.objects.set(value, { tenantId, reference });
    if (reference.bytes > this.maxBytes || this.values.has(key)) return;
    this.values.set(key, { key, value, bytes: reference.bytes });
    if (typeof value === 'string') this.strings.set(value, { tenantId, reference });
    this.held += reference.bytes;
    for (const oldest of this.values.values()) {
      if (this.held <= this.maxBytes) break;
      this.values.delete(oldest.key);
      if (typeof oldest.value === 'string') this.strings.delete(oldest.value);
      this.held -= oldest.bytes;
    }
  }
}
