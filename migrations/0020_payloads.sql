-- Large payloads (DESIGN section 10): trigger data and node outputs larger than
-- PAYLOAD_INLINE_BYTES are stored once, by the SHA-256 of their canonical JSON, and events carry
-- a reference. A row is written before the event that refers to it (insert ... on conflict do
-- nothing) and never rewritten; a crash between the two leaves an orphan row, never a dangling
-- reference.
CREATE TABLE IF NOT EXISTS payloads (
  tenant_id text NOT NULL,
  hash text NOT NULL,
  bytes integer NOT NULL,
  data text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, hash)
);
