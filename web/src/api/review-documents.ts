import { graphql } from "../graphql.js";
import { QueueItemFields } from "./documents.js";

/** Documents of the reviewer workforce (issue 14): precedents, reviewer figures. */

export const PrecedentsQuery = graphql(`
  query Precedents($id: ID!, $first: Int!) {
    escalation(id: $id) {
      id
      precedents(first: $first) {
        score
        decision
        reasonCode
        issueType
        decidedAt
        escalationId
        trend {
          id
          title
          body
          source
          status
        }
      }
    }
  }
`);

export const ReviewerStatsQuery = graphql(`
  query ReviewerStats($since: DateTime) {
    reviewerStats(since: $since) {
      reviewer {
        id
        name
      }
      reviews
      medianHandlingSeconds
      decided
      agreementRate
      overturnedOnAppeal
      auditSamples
      auditAgreementRate
    }
  }
`);

/** "Next item": the server claims the most urgent escalation this reviewer may take, or null. */
export const ClaimNextMutation = graphql(
  `
    mutation ClaimNext {
      claimNextEscalation {
        ...QueueItemFields
        claimToken
      }
    }
  `,
  [QueueItemFields],
);

/** Consensus so far, and who reviewed (never the others' decisions before the outcome). */
export const ConsensusQuery = graphql(`
  query Consensus($id: ID!) {
    escalation(id: $id) {
      id
      status
      reviewProgress {
        required
        received
        deciderSkill
      }
      reviews {
        reviewer {
          id
        }
        at
        counted
      }
    }
  }
`);
