import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from "kysely";

import { toValidText } from "../domain/valid-text.js";

/** `String.prototype.isWellFormed` (ES2024, in Node since 20; the project's lib is ES2023). */
type WellFormedString = string & { isWellFormed(): boolean };

/**
 * `isValidText` (domain/valid-text.ts) by native string methods: no lone surrogate (well-formed)
 * and no U+0000. The same answer, faster: its lookbehind regex scans text with any character
 * beyond Latin-1 at ~20 ms per MB, and a batch stage's one JSON parameter is hundreds of
 * kilobytes (profiled: 137 ms of a 3,000-item no-op pipeline run's ~2.4 s busy on the main
 * thread); this takes ~4 ms per MB there, and next to nothing on Latin-1 strings.
 */
function isValidParam(text: string): boolean {
  return (text as WellFormedString).isWellFormed() && !text.includes("\u0000");
}

function validParam(value: unknown): unknown {
  if (typeof value === "string") return isValidParam(value) ? value : toValidText(value);
  // text[] columns (topics) travel as one array parameter.
  if (Array.isArray(value) && value.some((v) => typeof v === "string" && !isValidParam(v)))
    return value.map(validParam);
  return value;
}

class ValidTextTransformer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value = validParam(node.value);
    return value === node.value ? node : { ...node, value };
  }

  protected override transformPrimitiveValueList(
    node: PrimitiveValueListNode,
  ): PrimitiveValueListNode {
    const values = node.values.map(validParam);
    return values.every((v, i) => v === node.values[i]) ? node : { ...node, values };
  }
}

/**
 * Makes every string parameter of every query valid text (docs in domain/valid-text.ts) before
 * it reaches Postgres: one place, so no resolver, stage or CLI path can send a lone surrogate
 * or U+0000 into a text column (22021 → INTERNAL_SERVER_ERROR before issue 12). JSON columns
 * are written with `toValidJson`, because by then the bad character is an escape in JSON text.
 */
export class ValidTextPlugin implements KyselyPlugin {
  private readonly transformer = new ValidTextTransformer();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}
