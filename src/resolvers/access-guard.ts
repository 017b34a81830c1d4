import {
  defaultFieldResolver,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  isObjectType,
} from "graphql";

import {
  FIELD_REDACTIONS,
  FIELD_RULES,
  OPERATION_RULES,
  type OperationRule,
} from "../domain/access-rules.js";
import { DomainError } from "../domain/domain-error.js";
import { isAllowed } from "../domain/permissions.js";
import type { Principal } from "../services/auth-service.js";

/** The check every operation passes: UNAUTHENTICATED without a key, FORBIDDEN for a role without the action. */
export function authorize(
  principal: Principal | undefined,
  rule: OperationRule | undefined,
  operation: string,
): Principal | undefined {
  if (rule?.action === "public") return principal;
  if (!principal)
    throw new DomainError(
      "UNAUTHENTICATED",
      "an API key is required (Authorization: Bearer <key>)",
    );
  if (!rule) {
    // Fail closed: an operation nobody wrote a rule for is nobody's (and the matrix test fails).
    throw new DomainError("FORBIDDEN", `${operation} has no access rule`, { operation });
  }
  if (rule.action === "metrics token" || !isAllowed(principal.role, rule.action)) {
    throw new DomainError("FORBIDDEN", `role ${principal.role} may not ${rule.action}`, {
      role: principal.role,
      action: rule.action,
    });
  }
  return principal;
}

type Ctx = { principal?: Principal } | undefined;

/**
 * Applies src/domain/access-rules.ts to the executable schema, once: every root field checks its
 * operation rule before its resolver (and a subscription before it subscribes), and restricted
 * fields deny or redact for roles without the action. Because the schema is shared, HTTP and
 * WebSocket (queries, mutations and every subscription event) get the same rules.
 */
export function applyAccessRules(schema: GraphQLSchema): GraphQLSchema {
  for (const root of [
    schema.getQueryType(),
    schema.getMutationType(),
    schema.getSubscriptionType(),
  ]) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      const name = `${root.name}.${field.name}`;
      const rule = OPERATION_RULES[name];
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context: Ctx, info) => {
        authorize(context?.principal, rule, name);
        return resolve(source, args, context, info);
      };
      if (field.subscribe) {
        const subscribe = field.subscribe;
        field.subscribe = (source, args, context: Ctx, info) => {
          authorize(context?.principal, rule, name);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  for (const [name, rule] of Object.entries(FIELD_RULES)) {
    const [typeName = "", fieldName = ""] = name.split(".");
    const type = schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (!field) throw new Error(`access rule for ${name}: no such field in the schema`);
    const resolve: GraphQLFieldResolver<unknown, Ctx> = field.resolve ?? defaultFieldResolver;
    const redact = FIELD_REDACTIONS[name];
    field.resolve = async (source, args, context: Ctx, info) => {
      const role = context?.principal?.role;
      const value = await resolve(source, args, context, info);
      if (role && isAllowed(role, rule.action)) return value;
      if (rule.mode === "redact" && redact) return redact(value, source, context?.principal);
      throw new DomainError(
        "FORBIDDEN",
        `${name} is only for roles that may ${rule.action} (${rule.why})`,
        { field: name },
      );
    };
  }
  return schema;
}
