import { HTTP_NODE_DEFAULTS } from '../../src/nodes/http.js';
import { builtinNodeTypes, NodeTypeRegistry } from '../../src/nodes/registry.js';

/** The built-in node types, as an engine with default settings registers them. */
export const BUILTIN_REGISTRY = new NodeTypeRegistry(builtinNodeTypes(HTTP_NODE_DEFAULTS));

/** What the validator and the decider look types up in. */
export const BUILTIN_TYPES = BUILTIN_REGISTRY.capabilities;
