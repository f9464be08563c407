import type { NodeExecute } from './nodeType.js';

/** Output = input: what noop and merge do, and what a timer type passes on. */
export const passInput: NodeExecute = async ({ input }) => ({ output: input });

/** A trigger's attempt emits the execution's trigger data. */
export const emitTriggerData: NodeExecute = async ({ trigger }) => ({ output: trigger });

/** Parameters of a type that takes none: any object. */
export const NO_PARAMETERS = { type: 'object', problem: 'must be an object' } as const;
