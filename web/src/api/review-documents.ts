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
        reviewedBy {
          id
        }
        at
        counted
      }
    }
  }
`);

/** The reason-code taxonomy (REJECT requires a code; an APPROVE may carry one). */
export const ReasonCodesQuery = graphql(`
  query ReasonCodes {
    reasonCodes {
      code
      label
      description
      decisions
    }
  }
`);

/** Rejected items the caller may appeal (an integrator's own tenant; an operator's every tenant). */
export const RejectedTrendsQuery = graphql(`
  query RejectedTrends($first: Int!) {
    trends(filter: { status: [REJECTED] }, first: $first) {
      edges {
        node {
          id
          title
          body
          source
          status
          updatedAt
          escalations {
            id
            issueType
            status
            appealOf
            resolution {
              decision
              reasonCode
              resolvedAt
            }
          }
        }
      }
    }
  }
`);

export const AppealMutation = graphql(`
  mutation Appeal($trendId: ID!, $statement: String!) {
    appealDecision(trendId: $trendId, statement: $statement) {
      id
      status
      issueType
    }
  }
`);

/** Appeals made (APPEAL escalations) and where each stands; the API limits them to the caller's tenant. */
export const AppealsQuery = graphql(`
  query Appeals($first: Int!) {
    escalations(issueType: [APPEAL], first: $first) {
      edges {
        node {
          id
          status
          createdAt
          resolution {
            decision
          }
          trend {
            id
            title
            body
            status
          }
        }
      }
    }
  }
`);
