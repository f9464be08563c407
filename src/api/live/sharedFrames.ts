import { createRequire } from 'node:module';
import { Kind, print, type DocumentNode, type ExecutionResult, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import type { ExecutionUpdate, Selection } from './executionUpdates.js';

/**
 * graphql-js as mercurius loads it (CommonJS): the schema is mercurius' own, and graphql-js
 * refuses a schema from another copy of itself (an ESM import may load the other build).
 */
const { execute } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** Turns a result with errors into what clients get (the server's error formatter). */
export type FormatResult = (result: ExecutionResult, context: unknown) => unknown;

/**
 * A subscription's document as the feed serves it: what it selects, and the key under which its
 * messages are shared with every other subscription that has the same document, variables and
 * visibility.
 */
export class SubscriptionDocument {
  readonly key: string;
  readonly selection: Selection;
  private readonly document: DocumentNode;

  constructor(
    private readonly info: GraphQLResolveInfo,
    /** The first subscriber's context serves everyone with the same key: the key must hold all that decides what it may see. */
    readonly context: unknown,
    visibility: string,
  ) {
    const fragments = Object.values(info.fragments);
    this.document = { kind: Kind.DOCUMENT, definitions: [info.operation, ...fragments] };
    this.key = JSON.stringify([visibility, print(info.operation), fragments.map(print), info.variableValues]);
    const fields = selectedFields(info.fieldNodes, info.fragments);
    this.selection = { nodes: fields.has('changedNodes') || fields.has('execution'), execution: fields.has('execution') };
  }

  /** The operation executed with the update as its root: what graphql-js would do per subscriber and message. */
  execute(update: ExecutionUpdate): ExecutionResult {
    const { schema, variableValues, operation } = this.info;
    // Every resolver under ExecutionUpdate is synchronous (the update holds its data), so is this.
    return execute({ schema, document: this.document, rootValue: update, contextValue: this.context, variableValues, operationName: operation.name?.value }) as ExecutionResult;
  }
}

/** The names of the fields selected under the subscription's root field, through fragments. */
function selectedFields(roots: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): Set<string> {
  const names = new Set<string>();
  const visit = (selections: readonly SelectionNode[]): void => {
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet.selections);
      else if (fragments[selection.name.value]) visit(fragments[selection.name.value]!.selectionSet.selections);
    }
  };
  for (const root of roots) visit(root.selectionSet?.selections ?? []);
  return names;
}

/**
 * One execution and one serialisation per update and document key, shared by every socket that
 * subscribed with that document: an update is one object per execution version and shown
 * version (LiveExecution), so the cache lives as long as the update does.
 */
export class SharedFrames {
  /** Executions of a subscription document so far (for tests and metrics). */
  executed = 0;
  private readonly payloads = new WeakMap<ExecutionUpdate, Map<string, Buffer>>();

  constructor(private readonly format: FormatResult) {}

  /** The message's payload as JSON, and the `}` that closes the message around it. */
  payload(update: ExecutionUpdate, document: SubscriptionDocument): Buffer {
    const byKey = this.payloads.get(update) ?? new Map<string, Buffer>();
    this.payloads.set(update, byKey);
    const known = byKey.get(document.key);
    if (known) return known;
    this.executed++;
    const result = document.execute(update);
    const payload = Buffer.from(`${JSON.stringify(result.errors?.length ? this.format(result, document.context) : result)}}`);
    byKey.set(document.key, payload);
    return payload;
  }
}
