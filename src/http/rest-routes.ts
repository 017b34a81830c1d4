import express, { type Request, type Response, Router } from "express";

import { ROUTE_RULES } from "../domain/access-rules.js";
import { DomainError, HTTP_STATUS_OF } from "../domain/domain-error.js";
import { authorize } from "../resolvers/access-guard.js";
import { bearerKey } from "../resolvers/context.js";
import { toEscalation } from "../schema/mappers.js";
import type { AppServices } from "../services/app-services.js";

/**
 * REST beside GraphQL: `POST /escalations/{id}/resolve` with the same semantics, errors and
 * codes as `resolveEscalation` (the body is `{ decision, reasonCode, note, claimToken }`).
 */
export function restRoutes(services: AppServices, maxBodyBytes: number): Router {
  const router = Router();
  router.post(
    "/escalations/:id/resolve",
    express.json({ limit: maxBodyBytes }),
    async (req: Request, res: Response) => {
      try {
        const route = "POST /escalations/:id/resolve";
        const principal = authorize(
          await services.auth.authenticate(bearerKey(req.headers.authorization)),
          ROUTE_RULES[route],
          route,
        )!;
        const body = (req.body ?? {}) as {
          decision?: unknown;
          note?: unknown;
          claimToken?: unknown;
          reasonCode?: unknown;
        };
        if (body.decision !== "APPROVE" && body.decision !== "REJECT") {
          throw new DomainError("BAD_USER_INPUT", "decision: must be APPROVE or REJECT", {
            field: "decision",
          });
        }
        for (const field of ["note", "reasonCode"] as const) {
          if (
            body[field] !== undefined &&
            body[field] !== null &&
            typeof body[field] !== "string"
          ) {
            throw new DomainError("BAD_USER_INPUT", `${field}: must be a string`, { field });
          }
        }
        const row = await services.escalations.resolve(
          String(req.params.id),
          {
            decision: body.decision,
            note: (body.note as string | undefined) ?? null,
            reasonCode: (body.reasonCode as string | undefined) ?? null,
            claimToken: body.claimToken == null ? null : String(body.claimToken),
          },
          principal,
        );
        res.status(200).json({ escalation: toEscalation(row) });
      } catch (error) {
        sendError(res, error, services);
      }
    },
  );
  return router;
}

function sendError(res: Response, error: unknown, services: AppServices): void {
  if (error instanceof DomainError) {
    res
      .status(HTTP_STATUS_OF[error.code])
      .json({ error: { code: error.code, message: error.message, ...error.data } });
    return;
  }
  services.logger.error({ err: error }, "REST request failed");
  res.status(500).json({ error: { code: "INTERNAL_SERVER_ERROR", message: "internal error" } });
}
