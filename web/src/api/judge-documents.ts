import { graphql } from "../graphql.js";

/** The Judge page's documents: figures over time, policy versions, calibration and applying. */

const PolicyVersionFields = graphql(`
  fragment PolicyVersionFields on JudgePolicyVersion {
    version
    origin
    policy
    justification
    simulation
    createdAt
    createdBy {
      keyId
      name
    }
  }
`);

const OutcomeFields = graphql(`
  fragment OutcomeFields on PolicyOutcomeCounts {
    published
    rejected
    escalated
    escalationRate
    moderatorRejectedPublished
    moderatorApprovedRejected
  }
`);

const SimulationFields = graphql(
  `
    fragment SimulationFields on PolicySimulation {
      since
      items
      labelled
      activeVersion
      changed
      escalationsRemoved
      escalationsAdded
      durationMs
      recorded {
        published
        rejected
        escalated
      }
      active {
        ...OutcomeFields
      }
      proposed {
        ...OutcomeFields
      }
    }
  `,
  [OutcomeFields],
);

export const JudgeStatsQuery = graphql(`
  query JudgeStats($since: DateTime, $bucketMinutes: Int!) {
    judgeStats(since: $since, bucketMinutes: $bucketMinutes) {
      start
      policyVersion
      judged
      escalationRate
      autoPublishRate
      autoRejectRate
      auditSamples
      auditResolved
      auditDisagreementRate
      resolved
      overturns
      overturnRate
    }
  }
`);

export const JudgePolicyQuery = graphql(
  `
    query JudgePolicy($first: Int!) {
      judgePolicy {
        ...PolicyVersionFields
      }
      judgePolicyHistory(first: $first) {
        ...PolicyVersionFields
      }
    }
  `,
  [PolicyVersionFields],
);

export const CalibrationProposalQuery = graphql(
  `
    query CalibrationProposal($targetLeak: Float!) {
      judgeCalibrationProposal(targetLeak: $targetLeak) {
        targetLeak
        decisions
        moderatorDecisions
        auditDecisions
        activeVersion
        policy
        refusedReason
        active {
          examples
          escalatedRate
          toxicPublishedRate
          cleanRejectedRate
        }
        proposed {
          examples
          escalatedRate
          toxicPublishedRate
          cleanRejectedRate
        }
        simulation {
          ...SimulationFields
        }
      }
    }
  `,
  [SimulationFields],
);

export const SimulatePolicyQuery = graphql(
  `
    query SimulatePolicy($policy: JSON!, $since: DateTime) {
      simulateJudgePolicy(policy: $policy, since: $since) {
        ...SimulationFields
      }
    }
  `,
  [SimulationFields],
);

export const ApplyPolicyMutation = graphql(
  `
    mutation ApplyPolicy($policy: JSON!, $justification: String!) {
      applyJudgePolicy(policy: $policy, justification: $justification) {
        ...PolicyVersionFields
      }
    }
  `,
  [PolicyVersionFields],
);
