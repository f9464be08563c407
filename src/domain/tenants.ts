/**
 * The tenant everything belongs to until identities name theirs (DESIGN section 8): the secrets
 * are stored per tenant already, and every execution reads this one's.
 */
export const DEFAULT_TENANT = 'default';
