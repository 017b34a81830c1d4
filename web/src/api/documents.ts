import { graphql } from "../graphql.js";

/** What the queue shows for one escalation; every subscription delivers the same shape. */
export const QueueItemFields = graphql(`
  fragment QueueItemFields on Escalation {
    id
    trendId
    issueType
    reason
    rule
    status
    claimedBy
    claimExpiresAt
    createdAt
    cursor
    resolution {
      decision
      resolvedBy
      note
    }
    trend {
      id
      title
      body
      source
      toxicityScore
      confidence
      status
    }
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      id
      name
      role
    }
  }
`);

export const EscalationsQuery = graphql(
  `
    query Escalations(
      $status: [EscalationStatus!]
      $issueType: [IssueType!]
      $source: String
      $first: Int!
      $after: String
    ) {
      escalations(
        status: $status
        issueType: $issueType
        source: $source
        first: $first
        after: $after
      ) {
        totalCount
        streamCursor
        resolutionCursor
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            ...QueueItemFields
          }
        }
      }
    }
  `,
  [QueueItemFields],
);

export const QueueCountQuery = graphql(`
  query QueueCount($issueType: [IssueType!], $source: String) {
    escalations(
      status: [OPEN, CLAIMED, IN_REVIEW]
      issueType: $issueType
      source: $source
      first: 1
    ) {
      totalCount
    }
  }
`);

export const EscalationCreatedSubscription = graphql(
  `
    subscription EscalationCreated($after: String) {
      escalationCreated(after: $after) {
        ...QueueItemFields
      }
    }
  `,
  [QueueItemFields],
);

export const EscalationUpdatedSubscription = graphql(
  `
    subscription EscalationUpdated($after: String) {
      escalationUpdated(after: $after) {
        ...QueueItemFields
      }
    }
  `,
  [QueueItemFields],
);

export const EscalationResolvedSubscription = graphql(
  `
    subscription EscalationResolved($after: String) {
      escalationResolved(after: $after) {
        ...QueueItemFields
      }
    }
  `,
  [QueueItemFields],
);

export const TrendUpdatedSubscription = graphql(`
  subscription TrendUpdated($after: String) {
    trendUpdated(after: $after) {
      trendId
      to
      cursor
    }
  }
`);

export const ReviewQuery = graphql(
  `
    query Review($id: ID!) {
      escalation(id: $id) {
        ...QueueItemFields
        claimToken
        scores
        appealStatement
        trend {
          id
          traceId
          title
          body
          source
          url
          author
          status
          summary
          topics
          toxicityScore
          confidence
          language
          sentiment {
            score
            label
          }
          plan {
            intent
            planner
            budget
          }
          budget {
            limit
            spent
          }
        }
        provenance {
          id
          step
          actor
          traceId
          createdAt
          input
          output
        }
      }
    }
  `,
  [QueueItemFields],
);

export const SimilarQuery = graphql(`
  query Similar($trendId: ID!) {
    similarTrends(trendId: $trendId, first: 5) {
      score
      trend {
        id
        title
        body
        source
        status
      }
    }
  }
`);

export const ClaimMutation = graphql(
  `
    mutation Claim($id: ID!) {
      claimEscalation(id: $id) {
        ...QueueItemFields
        claimToken
      }
    }
  `,
  [QueueItemFields],
);

export const ReleaseMutation = graphql(
  `
    mutation Release($id: ID!) {
      releaseEscalation(id: $id) {
        ...QueueItemFields
        claimToken
      }
    }
  `,
  [QueueItemFields],
);

export const ResolveMutation = graphql(
  `
    mutation Resolve($id: ID!, $input: ResolveEscalationInput!) {
      resolveEscalation(id: $id, input: $input) {
        ...QueueItemFields
      }
    }
  `,
  [QueueItemFields],
);

export const ProvenanceQuery = graphql(`
  query Provenance($trendId: ID!) {
    provenance(trendId: $trendId) {
      entries {
        id
        step
        actor
        traceId
        createdAt
        input
        output
      }
      edges {
        from
        to
        kind
      }
    }
  }
`);
