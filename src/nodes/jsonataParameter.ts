/** A parameter that holds a JSONata expression the type evaluates itself. */
export const jsonataSchema = (description: string) =>
  ({ type: 'string', minLength: 1, pattern: '\\S', format: 'jsonata', description, problem: 'must be a non-empty, valid JSONata expression' }) as const;
