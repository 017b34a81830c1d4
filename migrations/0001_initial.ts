import { type Kysely, sql } from "kysely";

/**
 * The whole data model of DESIGN.md. Statuses are text with CHECK constraints (easier to extend
 * in a later migration than Postgres enum types); the rules that must hold whatever code runs
 * (append-only provenance, the publish invariant) are triggers, not application code.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE enriched_trends (
      id uuid PRIMARY KEY,
      trace_id text NOT NULL UNIQUE,
      source text NOT NULL,
      external_id text,
      title text,
      body text NOT NULL,
      url text,
      author text,
      published_at timestamptz,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      normalized_body text,
      language text,
      sentiment_score double precision,
      sentiment_label text,
      topics text[] NOT NULL DEFAULT '{}',
      toxicity_score double precision,
      confidence double precision,
      summary text,
      enrichment jsonb,
      status text NOT NULL DEFAULT 'RECEIVED' CHECK (status IN (
        'RECEIVED','PLANNED','ENRICHED','EMBEDDED','READY','ESCALATED','APPROVED','REJECTED',
        'PAUSED','CANCELLED','PUBLISHED')),
      embedding_status text NOT NULL DEFAULT 'PENDING'
        CHECK (embedding_status IN ('PENDING','SUCCEEDED','FAILED')),
      paused_step text,
      paused_from text,
      budget_limit double precision NOT NULL DEFAULT 0 CHECK (budget_limit >= 0),
      budget_spent double precision NOT NULL DEFAULT 0 CHECK (budget_spent >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (source, external_id)
    )`.execute(db);
  await sql`CREATE INDEX enriched_trends_status_idx ON enriched_trends (status, created_at)`.execute(
    db,
  );
  await sql`CREATE INDEX enriched_trends_created_idx ON enriched_trends (created_at, id)`.execute(
    db,
  );
  await sql`CREATE INDEX enriched_trends_topics_idx ON enriched_trends USING gin (topics)`.execute(
    db,
  );

  await sql`
    CREATE TABLE planner_intents (
      id uuid PRIMARY KEY,
      trend_id uuid NOT NULL UNIQUE REFERENCES enriched_trends (id),
      trace_id text NOT NULL,
      intent text NOT NULL,
      steps jsonb NOT NULL,
      budget double precision NOT NULL CHECK (budget >= 0),
      planner text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // Append-only audit trail. parent_id links an entry to the one it follows (the graph's edges).
  await sql`
    CREATE TABLE provenance_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      trace_id text NOT NULL,
      trend_id uuid REFERENCES enriched_trends (id),
      step text NOT NULL,
      actor text NOT NULL,
      input jsonb NOT NULL DEFAULT '{}'::jsonb,
      output jsonb NOT NULL DEFAULT '{}'::jsonb,
      parent_id bigint REFERENCES provenance_log (id),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`.execute(db);
  await sql`CREATE INDEX provenance_trace_idx ON provenance_log (trace_id, id)`.execute(db);
  await sql`CREATE INDEX provenance_trend_idx ON provenance_log (trend_id, id)`.execute(db);
  await sql`
    CREATE FUNCTION provenance_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'provenance_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER provenance_no_update_delete BEFORE UPDATE OR DELETE ON provenance_log
    FOR EACH ROW EXECUTE FUNCTION provenance_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER provenance_no_truncate BEFORE TRUNCATE ON provenance_log
    FOR EACH STATEMENT EXECUTE FUNCTION provenance_append_only()`.execute(db);

  await sql`
    CREATE TABLE embedding_records (
      id uuid PRIMARY KEY,
      trend_id uuid NOT NULL UNIQUE REFERENCES enriched_trends (id),
      vector_id text NOT NULL,
      store text NOT NULL,
      model text NOT NULL,
      dimension integer NOT NULL CHECK (dimension > 0),
      attempts integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE escalations (
      id uuid PRIMARY KEY,
      trend_id uuid NOT NULL REFERENCES enriched_trends (id),
      issue_type text NOT NULL CHECK (issue_type IN ('low_confidence','toxicity','budget_overrun')),
      reason text NOT NULL,
      rule text,
      scores jsonb NOT NULL DEFAULT '{}'::jsonb,
      status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','CLAIMED','RESOLVED')),
      claimed_by text,
      claim_token bigint NOT NULL DEFAULT 0,
      claim_expires_at timestamptz,
      decision text CHECK (decision IN ('APPROVE','REJECT')),
      note text,
      resolved_by text,
      resolved_at timestamptz,
      sla_alerted_at timestamptz,
      stream_cursor text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((status = 'RESOLVED') = (decision IS NOT NULL))
    )`.execute(db);
  // At most one unresolved escalation of a kind per trend: the Judge's redelivery can't open two.
  await sql`
    CREATE UNIQUE INDEX escalations_one_open_idx ON escalations (trend_id, issue_type)
    WHERE status <> 'RESOLVED'`.execute(db);
  await sql`CREATE INDEX escalations_queue_idx ON escalations (status, created_at, id)`.execute(db);

  await sql`
    CREATE TABLE incidents (
      id uuid PRIMARY KEY,
      trend_id uuid NOT NULL REFERENCES enriched_trends (id),
      rule text NOT NULL,
      reason text NOT NULL,
      severity text NOT NULL DEFAULT 'high',
      provenance jsonb NOT NULL DEFAULT '[]'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (trend_id, rule)
    )`.execute(db);

  await sql`
    CREATE TABLE publish_overrides (
      id uuid PRIMARY KEY,
      trend_id uuid NOT NULL REFERENCES enriched_trends (id),
      operator text NOT NULL,
      justification text NOT NULL CHECK (length(btrim(justification)) > 0),
      incident_id uuid REFERENCES incidents (id),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE publications (
      id uuid PRIMARY KEY,
      trend_id uuid NOT NULL UNIQUE REFERENCES enriched_trends (id),
      adapter text NOT NULL,
      tool text NOT NULL,
      external_ref text NOT NULL,
      idempotency_key text NOT NULL UNIQUE,
      approval_path text NOT NULL CHECK (approval_path IN ('judge','moderator','override')),
      override_id uuid REFERENCES publish_overrides (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((approval_path = 'override') = (override_id IS NOT NULL))
    )`.execute(db);
  // The invariant (DESIGN.md): a publication exists only for a READY/APPROVED trend, or through
  // an override of that trend; an incident blocks publishing unless the override names it.
  // The trend row is locked so a concurrent status change cannot slip between check and insert.
  await sql`
    CREATE FUNCTION publications_enforce_invariant() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      trend_status text;
      ov publish_overrides%ROWTYPE;
      open_incident uuid;
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'publications are immutable' USING ERRCODE = 'insufficient_privilege';
      END IF;
      SELECT status INTO trend_status FROM enriched_trends WHERE id = NEW.trend_id FOR UPDATE;
      IF NEW.override_id IS NULL THEN
        IF trend_status IS DISTINCT FROM 'READY' AND trend_status IS DISTINCT FROM 'APPROVED' THEN
          RAISE EXCEPTION 'publish invariant: trend % is %, not READY or APPROVED, and has no override',
            NEW.trend_id, trend_status USING ERRCODE = 'check_violation';
        END IF;
        SELECT id INTO open_incident FROM incidents WHERE trend_id = NEW.trend_id LIMIT 1;
        IF open_incident IS NOT NULL THEN
          RAISE EXCEPTION 'publish invariant: trend % has incident %', NEW.trend_id, open_incident
            USING ERRCODE = 'check_violation';
        END IF;
      ELSE
        SELECT * INTO ov FROM publish_overrides WHERE id = NEW.override_id;
        IF ov.trend_id IS DISTINCT FROM NEW.trend_id THEN
          RAISE EXCEPTION 'publish invariant: override % is not for trend %', NEW.override_id, NEW.trend_id
            USING ERRCODE = 'check_violation';
        END IF;
        SELECT id INTO open_incident FROM incidents
          WHERE trend_id = NEW.trend_id AND id IS DISTINCT FROM ov.incident_id LIMIT 1;
        IF open_incident IS NOT NULL THEN
          RAISE EXCEPTION 'publish invariant: override % does not name incident %', ov.id, open_incident
            USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM provenance_log
                       WHERE trend_id = NEW.trend_id AND step = 'override'
                         AND output->>'overrideId' = ov.id::text) THEN
          RAISE EXCEPTION 'publish invariant: override % has no justification in provenance', ov.id
            USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER publications_invariant BEFORE INSERT OR UPDATE ON publications
    FOR EACH ROW EXECUTE FUNCTION publications_enforce_invariant()`.execute(db);

  // One charge per (trend, step): a redelivered step is never charged twice.
  await sql`
    CREATE TABLE budget_charges (
      trend_id uuid NOT NULL REFERENCES enriched_trends (id),
      step text NOT NULL,
      cost double precision NOT NULL CHECK (cost >= 0),
      unit text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trend_id, step)
    )`.execute(db);

  // Transactional outbox: written in the same transaction as the change it announces.
  await sql`
    CREATE TABLE outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('integrator','moderator','operator','viewer')),
      key_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "api_keys",
    "outbox",
    "budget_charges",
    "publications",
    "publish_overrides",
    "incidents",
    "escalations",
    "embedding_records",
    "provenance_log",
    "planner_intents",
    "enriched_trends",
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)} CASCADE`.execute(db);
  }
  await sql`DROP FUNCTION IF EXISTS provenance_append_only, publications_enforce_invariant`.execute(
    db,
  );
}
