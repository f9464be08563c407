import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** What a GraphQL operation asks of the server, read from its document alone (no schema, no execution). */
export interface QueryMeasure {
  /** Nesting of fields: `{ workflows { id } }` is 2. */
  depth: number;
  /** Fields with an alias: each one resolves its field once more. */
  aliases: number;
  /** Fields selected, fragments expanded where they are spread (a fragment spread twice counts twice). */
  cost: number;
}

const NOTHING: QueryMeasure = { depth: 0, aliases: 0, cost: 0 };

const combined = (a: QueryMeasure, b: QueryMeasure): QueryMeasure => ({ depth: Math.max(a.depth, b.depth), aliases: a.aliases + b.aliases, cost: a.cost + b.cost });

/**
 * Measures fragments once each and reuses the result at every spread, so that fragments spread
 * within fragments (each doubling the work) cost a walk of the document, not of its expansion.
 * A fragment that spreads itself, or one that does not exist, counts as nothing here: validation
 * refuses those documents afterwards.
 */
class Measurer {
  private readonly fragments: Map<string, FragmentDefinitionNode>;
  private readonly measured = new Map<string, QueryMeasure>();
  private readonly inProgress = new Set<string>();

  constructor(document: DocumentNode) {
    this.fragments = new Map(document.definitions.flatMap((each) => (each.kind === Kind.FRAGMENT_DEFINITION ? [[each.name.value, each] as const] : [])));
  }

  selections(set: SelectionSetNode): QueryMeasure {
    let total = NOTHING;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? this.selections(selection.selectionSet) : NOTHING;
        total = combined(total, { depth: below.depth + 1, aliases: below.aliases + (selection.alias ? 1 : 0), cost: below.cost + 1 });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total = combined(total, this.selections(selection.selectionSet));
      } else {
        total = combined(total, this.fragment(selection.name.value));
      }
    }
    return total;
  }

  private fragment(name: string): QueryMeasure {
    const known = this.measured.get(name);
    if (known) return known;
    const definition = this.fragments.get(name);
    if (!definition || this.inProgress.has(name)) return NOTHING;
    this.inProgress.add(name);
    const measure = this.selections(definition.selectionSet);
    this.inProgress.delete(name);
    this.measured.set(name, measure);
    return measure;
  }
}

/** The largest measure of each kind over the document's operations: any of them may be the one that runs. */
export function measureDocument(document: DocumentNode): QueryMeasure {
  const measurer = new Measurer(document);
  let largest = NOTHING;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const measure = measurer.selections(definition.selectionSet);
    largest = { depth: Math.max(largest.depth, measure.depth), aliases: Math.max(largest.aliases, measure.aliases), cost: Math.max(largest.cost, measure.cost) };
  }
  return largest;
}
