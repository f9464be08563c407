/** Whether dist/ under `root` is missing or older than anything it is built from. */
export function isStale(root: string): boolean;
