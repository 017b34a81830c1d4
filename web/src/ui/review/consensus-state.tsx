import { useEffect, useState } from "preact/hooks";

import { ConsensusQuery } from "../../api/review-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";

type Consensus = ResultOf<typeof ConsensusQuery>["escalation"];

/**
 * Where the escalation stands on the way to consensus (issue 14, item 3): "1 of 2 reviews", and
 * whether this reviewer's own review is in. Never the others' decisions: the API hides them until
 * the outcome, and the panel does not ask for them.
 */
export function ConsensusState({
  session,
  escalationId,
  version,
}: {
  session: Session;
  escalationId: string;
  version: number;
}) {
  const [consensus, setConsensus] = useState<Consensus | undefined>();
  useEffect(() => {
    let live = true;
    session.client
      .request(ConsensusQuery, { id: escalationId })
      .then((data) => live && setConsensus(data.escalation))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [escalationId, version]);
  if (!consensus) return null;
  const { required, received, deciderSkill } = consensus.reviewProgress;
  const mine = consensus.reviews.some((r) => r.reviewedBy.id === session.me.id);
  if (required <= 1 && received === 0 && !deciderSkill) return null;
  return (
    <p
      class="consensus"
      data-testid="consensus"
      data-received={received}
      data-required={required}
      role="status"
    >
      <strong>
        {received} of {required} review{required === 1 ? "" : "s"}
      </strong>
      {consensus.status === "RESOLVED"
        ? " — decided."
        : mine
          ? " — yours is recorded; waiting for the others."
          : received > 0
            ? " — others have reviewed; their decisions stay hidden until the outcome."
            : "."}
      {deciderSkill && (
        <>
          {" "}
          Reviewers disagreed: a reviewer with the skill <code>{deciderSkill}</code> decides,
          finally.
        </>
      )}
    </p>
  );
}
