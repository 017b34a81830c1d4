import { type Kysely, sql } from "kysely";

/**
 * Tenants (issue 12): every trend belongs to the tenant of the integrator key that posted it, and
 * idempotency is per (tenant, source, externalId), so two integrators never collide on each
 * other's ids. Keys say which tenants they may see (`tenants`, NULL = all; an integrator key has
 * exactly one). Claims and separation of duties compare key ids, never names (a name is a label
 * anyone may reuse).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_keys ADD COLUMN tenants text[]`.execute(db);
  await sql`UPDATE api_keys SET tenants = ARRAY['default'] WHERE role = 'integrator'`.execute(db);
  await sql`
    ALTER TABLE api_keys ADD CONSTRAINT api_keys_integrator_one_tenant
      CHECK (role <> 'integrator' OR cardinality(tenants) = 1)`.execute(db);

  await sql`ALTER TABLE enriched_trends ADD COLUMN tenant text NOT NULL DEFAULT 'default'`.execute(
    db,
  );
  await sql`ALTER TABLE enriched_trends ADD COLUMN ingested_by_key text`.execute(db);
  await sql`ALTER TABLE enriched_trends DROP CONSTRAINT enriched_trends_source_external_id_key`.execute(
    db,
  );
  await sql`
    ALTER TABLE enriched_trends ADD CONSTRAINT enriched_trends_tenant_source_external_id_key
      UNIQUE (tenant, source, external_id)`.execute(db);
  await sql`CREATE INDEX enriched_trends_tenant_created_idx ON enriched_trends (tenant, created_at, id)`.execute(
    db,
  );

  await sql`ALTER TABLE escalations ADD COLUMN claimed_by_key text`.execute(db);
  await sql`ALTER TABLE escalations ADD COLUMN resolved_by_key text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE escalations DROP COLUMN IF EXISTS resolved_by_key, DROP COLUMN IF EXISTS claimed_by_key`.execute(
    db,
  );
  await sql`DROP INDEX IF EXISTS enriched_trends_tenant_created_idx`.execute(db);
  await sql`ALTER TABLE enriched_trends DROP CONSTRAINT IF EXISTS enriched_trends_tenant_source_external_id_key`.execute(
    db,
  );
  await sql`ALTER TABLE enriched_trends ADD CONSTRAINT enriched_trends_source_external_id_key UNIQUE (source, external_id)`.execute(
    db,
  );
  await sql`ALTER TABLE enriched_trends DROP COLUMN IF EXISTS ingested_by_key, DROP COLUMN IF EXISTS tenant`.execute(
    db,
  );
  await sql`ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_integrator_one_tenant`.execute(
    db,
  );
  await sql`ALTER TABLE api_keys DROP COLUMN IF EXISTS tenants`.execute(db);
}
