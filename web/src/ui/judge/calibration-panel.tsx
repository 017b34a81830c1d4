import { useState } from "preact/hooks";

import {
  ApplyPolicyMutation,
  CalibrationProposalQuery,
  SimulatePolicyQuery,
} from "../../api/judge-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { usePolled } from "../use-polled.js";
import { percent } from "./judge-series.js";
import { SimulationTable } from "./simulation-table.js";

type Proposal = ResultOf<typeof CalibrationProposalQuery>["judgeCalibrationProposal"];
type Simulation = ResultOf<typeof SimulatePolicyQuery>["simulateJudgePolicy"];
type AppliedVersion = ResultOf<typeof ApplyPolicyMutation>["applyJudgePolicy"];

const THRESHOLDS = [
  ["minConfidence", "Minimum confidence", "below it a moderator decides"],
  ["maxToxicity", "Maximum toxicity", "above it a moderator decides"],
  ["toxicityCeiling", "Toxicity ceiling", "at or above it the item is rejected outright"],
] as const;
type ThresholdKey = (typeof THRESHOLDS)[number][0];
type PolicyJson = { thresholds?: Partial<Record<ThresholdKey, number>> } & Record<string, unknown>;

/**
 * The operator's half of the Judge page: a proposal for a target leak from moderator decisions
 * (or why there is none), its figures beside the active policy's, thresholds to adjust and
 * simulate on history, and applying them as a new version with a justification.
 */
export function CalibrationPanel({
  session,
  activePolicy,
  onApplied,
}: {
  session: Session;
  activePolicy: PolicyJson;
  onApplied(version: AppliedVersion): void;
}) {
  const [targetInput, setTargetInput] = useState("0.01");
  const [target, setTarget] = useState(0.01);
  const { value, error, refresh } = usePolled(
    () => session.client.request(CalibrationProposalQuery, { targetLeak: target }),
    null,
    [target],
  );
  const proposal = value?.judgeCalibrationProposal;
  // Kept here, not in the editor: the proposal reloads after an apply and may reset the editor.
  const [applied, setApplied] = useState<number | undefined>();

  return (
    <div class="calibration" data-testid="calibration">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          const t = Number(targetInput);
          if (t === target) refresh();
          else setTarget(t);
        }}
      >
        <label for="target-leak">
          Target leak (share of toxic items published without a human)
        </label>
        <input
          id="target-leak"
          type="number"
          step="0.001"
          min="0.001"
          max="0.5"
          required
          value={targetInput}
          onInput={(e) => setTargetInput((e.target as HTMLInputElement).value)}
          data-testid="target-leak"
        />
        <button type="submit" data-testid="propose">
          Propose
        </button>
      </form>
      <ErrorLine error={error} />
      {!proposal && !error && <p class="muted">Computing a proposal…</p>}
      {proposal && <ProposalFigures proposal={proposal} />}
      {proposal && (
        // Keyed by the proposal so that a new proposal resets the thresholds to its own.
        <PolicyEditor
          key={`${proposal.targetLeak}-${JSON.stringify(proposal.policy)}`}
          session={session}
          base={(proposal.policy as PolicyJson | null) ?? activePolicy}
          fromProposal={Boolean(proposal.policy)}
          onApplied={(v) => {
            setApplied(v.version);
            onApplied(v);
            refresh();
          }}
        />
      )}
      {applied !== undefined && (
        <p role="status" class="notice" data-testid="apply-outcome">
          Applied as version {applied}; the Judge uses it within about a second.
        </p>
      )}
    </div>
  );
}

function ProposalFigures({ proposal: p }: { proposal: Proposal }) {
  const rows = [
    ["Escalated", "escalatedRate"],
    ["Toxic published (leak)", "toxicPublishedRate"],
    ["Clean rejected", "cleanRejectedRate"],
  ] as const;
  return (
    <>
      <p class="muted" data-testid="proposal-basis">
        From {p.decisions} labelled decisions ({p.moderatorDecisions} moderator, {p.auditDecisions}{" "}
        audit samples), target leak {percent(p.targetLeak, 2)}.
      </p>
      {p.refusedReason && (
        <p role="status" class="notice" data-testid="proposal-refused">
          No proposal: {p.refusedReason}.
        </p>
      )}
      {p.proposed && (
        <table data-testid="proposal-figures">
          <caption>
            On the labelled decisions: the active policy (v{p.activeVersion}) beside the proposal
          </caption>
          <thead>
            <tr>
              <th scope="col">Rate</th>
              <th scope="col">Active v{p.activeVersion}</th>
              <th scope="col">Proposed</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, key]) => (
              <tr key={key}>
                <th scope="row">{label}</th>
                <td>{percent(p.active[key])}</td>
                <td data-testid={`proposed-${key}`}>{percent(p.proposed?.[key])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {p.simulation && (
        <SimulationTable
          simulation={p.simulation}
          caption="The proposal replayed on the Judge's history"
          testId="proposal-simulation"
        />
      )}
    </>
  );
}

function PolicyEditor({
  session,
  base,
  fromProposal,
  onApplied,
}: {
  session: Session;
  base: PolicyJson;
  fromProposal: boolean;
  onApplied(v: AppliedVersion): void;
}) {
  const [values, setValues] = useState<Record<ThresholdKey, string>>(() => {
    const t = base.thresholds ?? {};
    return {
      minConfidence: String(t.minConfidence ?? ""),
      maxToxicity: String(t.maxToxicity ?? ""),
      toxicityCeiling: String(t.toxicityCeiling ?? ""),
    };
  });
  const [justification, setJustification] = useState("");
  const [busy, setBusy] = useState(false);
  const [simulation, setSimulation] = useState<Simulation | undefined>();
  const [failure, setFailure] = useState<string | undefined>();

  // Empty or non-numeric fields go to the gateway as null, which refuses them naming the field.
  const policy = () => ({
    ...base,
    thresholds: Object.fromEntries(
      THRESHOLDS.map(([k]) => [k, values[k].trim() === "" ? null : Number(values[k])]),
    ),
  });

  const run = async (action: () => Promise<void>, failed: string) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await action();
    } catch (e) {
      setFailure(`${failed}: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const simulate = () =>
    run(async () => {
      const { simulateJudgePolicy } = await session.client.request(SimulatePolicyQuery, {
        policy: policy(),
        since: null,
      });
      setSimulation(simulateJudgePolicy);
    }, "Simulation failed");
  const apply = () =>
    run(async () => {
      const { applyJudgePolicy: v } = await session.client.request(ApplyPolicyMutation, {
        policy: policy(),
        justification,
      });
      setJustification("");
      // Its "active" column now describes the version just replaced.
      setSimulation(undefined);
      onApplied(v);
    }, "Not applied");

  return (
    <form
      class="policy-editor"
      aria-busy={busy}
      onSubmit={(e) => {
        e.preventDefault();
        void apply();
      }}
    >
      <fieldset>
        <legend>
          Thresholds{" "}
          {fromProposal
            ? "(from the proposal; adjust and simulate)"
            : "(the active policy's; adjust and simulate)"}
        </legend>
        <div class="thresholds">
          {THRESHOLDS.map(([key, label, help]) => (
            <label key={key}>
              <span>
                {label} <span class="muted">({help})</span>
              </span>
              <input
                type="number"
                step="0.01"
                min="0"
                max="1"
                value={values[key]}
                onInput={(e) =>
                  setValues({ ...values, [key]: (e.target as HTMLInputElement).value })
                }
                data-testid={`threshold-${key}`}
              />
            </label>
          ))}
        </div>
        <button
          type="button"
          disabled={busy}
          onClick={() => void simulate()}
          data-testid="simulate"
        >
          Simulate on history
        </button>
      </fieldset>
      {simulation && (
        <SimulationTable
          simulation={simulation}
          caption="These thresholds replayed on the Judge's history"
          testId="simulation"
        />
      )}
      <label for="apply-why">Justification (required; kept with the new version)</label>
      <textarea
        id="apply-why"
        rows={2}
        required
        value={justification}
        onInput={(e) => setJustification((e.target as HTMLTextAreaElement).value)}
        data-testid="apply-justification"
      />
      <div>
        <button
          type="submit"
          class="approve"
          disabled={busy || justification.trim() === ""}
          data-testid="apply"
        >
          Apply as a new version
        </button>
      </div>
      {failure && (
        <p role="alert" class="error" data-testid="policy-error">
          {failure}
        </p>
      )}
    </form>
  );
}
