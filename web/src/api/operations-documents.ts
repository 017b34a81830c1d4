import { graphql } from "../graphql.js";
import { QueueItemFields } from "./documents.js";

/** The operator views' documents: pipeline health, dead letters, incidents, budget, overrides. */

/** Streams and groups, and re-embedding after a model change: one request per refresh. */

export const PipelineHealthQuery = graphql(`
  query PipelineHealth {
    embeddingProgress {
      model
      total
      pending
      records {
        model
        records
      }
    }
    pipelineHealth {
      at
      outboxBacklog
      streams {
        stream
        length
        lastEntryId
        groups {
          name
          lag
          pending
          oldestPendingAgeMs
          consumers {
            name
            pending
            idleMs
          }
        }
      }
    }
  }
`);

/** The pipeline's stages as the server's registry defines them (streams, dead-letter streams). */
export const PipelineStagesQuery = graphql(`
  query PipelineStages {
    pipelineStages {
      name
      deadLetterStream
    }
  }
`);

export const DeadLettersQuery = graphql(`
  query DeadLetters($stream: String!, $first: Int!, $after: String) {
    deadLetters(stream: $stream, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      items {
        id
        stream
        sourceStream
        sourceId
        group
        trendId
        attempts
        error
        errorCode
        firstFailedAt
        lastFailedAt
      }
    }
  }
`);

export const ReplayMutation = graphql(`
  mutation Replay($stream: String!, $ids: [String!], $dryRun: Boolean) {
    replayDeadLetters(stream: $stream, ids: $ids, dryRun: $dryRun) {
      dryRun
      replayed
      ids
      skipped
      outcomes {
        id
        trendId
        outcome
        message
        changes
      }
    }
  }
`);

export const IncidentsQuery = graphql(`
  query Incidents($first: Int!, $after: String) {
    incidents(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          trendId
          rule
          reason
          severity
          createdAt
        }
      }
    }
  }
`);

export const BudgetOverrunsQuery = graphql(
  `
    query BudgetOverruns($status: [EscalationStatus!], $first: Int!, $after: String) {
      escalations(issueType: [BUDGET_OVERRUN], status: $status, first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...QueueItemFields
            trend {
              id
              budget {
                limit
                spent
              }
              pausedStep
            }
          }
        }
      }
    }
  `,
  [QueueItemFields],
);

export const OperatorAlertsSubscription = graphql(`
  subscription OperatorAlerts($after: String) {
    operatorAlerts(after: $after) {
      kind
      severity
      message
      trendId
      createdAt
      cursor
    }
  }
`);

export const OverridePublishMutation = graphql(`
  mutation OverridePublish($trendId: ID!, $justification: String!, $incidentId: ID) {
    overridePublish(trendId: $trendId, justification: $justification, incidentId: $incidentId) {
      id
      trendId
      operator
      justification
      createdAt
    }
  }
`);
