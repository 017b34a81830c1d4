import { graphql } from "../graphql.js";

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
      reviewerId
      reviewerName
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
