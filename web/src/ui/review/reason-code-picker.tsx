import { useEffect, useState } from "preact/hooks";
import { ReasonCodesQuery } from "../../api/review-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";

export type ReasonCode = ResultOf<typeof ReasonCodesQuery>["reasonCodes"][number];
type Decision = ReasonCode["decisions"][number];

/** The taxonomy changes with a deploy, not while a page is open: loaded once per session. */
const taxonomies = new WeakMap<Session, Promise<ReasonCode[]>>();

function reasonCodes(session: Session): Promise<ReasonCode[]> {
  let codes = taxonomies.get(session);
  if (!codes) {
    codes = session.client.request(ReasonCodesQuery, {}).then((r) => r.reasonCodes);
    codes.catch(() => taxonomies.delete(session));
    taxonomies.set(session, codes);
  }
  return codes;
}

/** Whether `code` may justify `decision` (a REJECT needs one; an APPROVE may carry one). */
export function fitsDecision(
  codes: readonly ReasonCode[],
  code: string,
  decision: Decision,
): boolean {
  return codes.some((c) => c.code === code && c.decisions.includes(decision));
}

/**
 * The reason-code picker of the review panel (issue 14, item 5): the server's taxonomy, grouped
 * by the decision each code justifies. A rejection without a code is refused by the panel before
 * the server would refuse it, with the picker focused.
 */
export function ReasonCodePicker({
  session,
  value,
  onChange,
  invalid,
}: {
  session: Session;
  value: string;
  onChange(code: string): void;
  invalid: boolean;
}) {
  const [codes, setCodes] = useState<ReasonCode[] | undefined>();
  useEffect(() => {
    let live = true;
    reasonCodes(session)
      .then((c) => live && setCodes(c))
      .catch(() => live && setCodes([]));
    return () => {
      live = false;
    };
  }, [session]);
  const group = (decision: Decision) =>
    (codes ?? []).filter((c) => c.decisions.includes(decision) && c.decisions.length === 1);
  const both = (codes ?? []).filter((c) => c.decisions.length > 1);
  return (
    <>
      <label for="reason-code">Reason code (required to reject)</label>
      <select
        id="reason-code"
        value={value}
        onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
        aria-invalid={invalid ? "true" : undefined}
        aria-describedby={invalid ? "reason-code-error" : undefined}
        data-testid="reason-code"
      >
        <option value="">{codes ? "— choose a reason —" : "loading…"}</option>
        {(["REJECT", "APPROVE"] as const).map((decision) => (
          <optgroup
            key={decision}
            label={decision === "REJECT" ? "Reject because" : "Approve because"}
          >
            {group(decision).map((c) => (
              <option key={c.code} value={c.code} title={c.description ?? undefined}>
                {c.label} ({c.code})
              </option>
            ))}
          </optgroup>
        ))}
        {both.length > 0 && (
          <optgroup label="Either decision">
            {both.map((c) => (
              <option key={c.code} value={c.code}>
                {c.label} ({c.code})
              </option>
            ))}
          </optgroup>
        )}
      </select>
      {invalid && (
        <p id="reason-code-error" role="alert" class="error" data-testid="reason-code-error">
          Choose a reason code that justifies a rejection.
        </p>
      )}
    </>
  );
}

export { reasonCodes };
