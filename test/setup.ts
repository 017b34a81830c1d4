import "reflect-metadata";

// Audit sampling sends a random-looking share of publishable items to a moderator; tests (and the
// processes they spawn) stay deterministic without it and ask for it explicitly (rate 1).
process.env.AUDIT_SAMPLE_RATE ??= "0";
