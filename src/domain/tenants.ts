/**
 * Tenants (DESIGN section 8): every workflow, execution, trigger, queue, secret and audit entry
 * belongs to exactly one. What was stored before tenants existed (events without a tenantId,
 * rows from before migration 0015) belongs to `default`, as does the bootstrap admin key.
 */
export const DEFAULT_TENANT = 'default';

/** The tenant of something that may predate tenants (an old event or row has none). */
export const tenantOf = (owner: { tenantId?: string | null } | null | undefined): string => owner?.tenantId ?? DEFAULT_TENANT;
