import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
} from "graphql";

/**
 * The cost of an operation where lists count by the page asked for: each field costs 1, and a
 * field with a `first` argument multiplies what is selected under it by `first` (its value,
 * from the document or the variables, else the argument's default). So `trends(first: 500)`
 * costs 100 times `trends(first: 5)`. graphql-armor's cost limit multiplies by a literal `first`
 * only: `trends(first: $n)` or the argument's default (50 escalations) escaped it. Variables are
 * known only at execution, so this runs after validation (Apollo's didResolveOperation,
 * graphql-ws's onSubscribe).
 */
export function listCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName?: string | null,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName))
      operation ??= d;
  }
  if (!operation) return 0;
  const root =
    operation.operation === "query"
      ? schema.getQueryType()
      : operation.operation === "mutation"
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return 0;
  const seen = new Set<string>();
  const cost = (set: SelectionSetNode, type: GraphQLNamedType | undefined): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const def =
          isObjectType(type) || isInterfaceType(type)
            ? type.getFields()[selection.name.value]
            : undefined;
        if (!def) {
          total += 1;
          continue;
        }
        let multiplier = 1;
        const firstArg = def.args.find((a) => a.name === "first");
        if (firstArg) {
          const node = selection.arguments?.find((a) => a.name.value === "first");
          const value = node
            ? valueFromAST(node.value, firstArg.type, variables ?? {})
            : firstArg.defaultValue;
          if (typeof value === "number" && value > 0) multiplier = value;
        }
        total +=
          1 +
          (selection.selectionSet
            ? multiplier * cost(selection.selectionSet, getNamedType(def.type))
            : 0);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : type;
        total += cost(selection.selectionSet, on ?? undefined);
      } else {
        const fragment = fragments.get(selection.name.value);
        // A fragment spread inside itself is a validation error already; count it once.
        if (!fragment || seen.has(fragment.name.value)) continue;
        seen.add(fragment.name.value);
        total += cost(
          fragment.selectionSet,
          schema.getType(fragment.typeCondition.name.value) ?? undefined,
        );
        seen.delete(fragment.name.value);
      }
    }
    return total;
  };
  return cost(operation.selectionSet, root);
}

/** The refusal both transports send when an operation's list cost is over the limit. */
export function listCostError(
  cost: number,
  limit: number,
  transport: { http?: { status: number } } = {},
): GraphQLError {
  return new GraphQLError(
    `query cost ${cost} is over the limit of ${limit} (lists count by their \`first\`)`,
    {
      extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost, limit, ...transport },
    },
  );
}
