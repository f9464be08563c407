/** The package's entry (DESIGN section 7): start a server, define node types. */
export { startCascade, type Cascade, type CascadeOptions } from './cascade.js';
export { ConfigError, type Config } from './config.js';
export {
  defineNodeType,
  type AttemptExecution,
  type ExecuteContext,
  type JsonSchema,
  type NodeLog,
  type NodeResult,
  type NodeType,
  type NodeTypeDefinition,
} from './nodes/nodeType.js';
export { CodedNodeError, PermanentNodeError } from './nodes/nodeErrors.js';
