-- The event store: every stream's version and every event, in commit order, and the append
-- functions that keep per-stream order and expected versions. The channel cascade_events is
-- EVENTS_CHANNEL in src/eventstore/notificationHint.ts.
CREATE TABLE IF NOT EXISTS streams (
  stream_id text PRIMARY KEY,
  version integer NOT NULL,
  last_xact xid8 NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS events (
  global_position bigserial PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL,
  stream_version integer NOT NULL,
  event_id text NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_version),
  UNIQUE (stream_id, event_id)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS events_commit_order ON events (transaction_id, global_position);
--> statement-breakpoint
-- The caller holds the stream's lock. A wrong expected version is answered (conflict = true,
-- next_version = the actual version), not raised, so that a batch goes on with its other streams.
CREATE OR REPLACE FUNCTION cascade_append_locked(p_stream_id text, p_events jsonb, p_expected text)
  RETURNS TABLE (next_version integer, position_xact xid8, position_seq bigint, conflict boolean)
  LANGUAGE plpgsql AS $fn$
  DECLARE
  v_version integer;
  v_last_xact xid8;
  v_new jsonb;
  v_held text[];
  v_seq bigint;
  BEGIN
  SELECT s.version, s.last_xact INTO v_version, v_last_xact FROM streams s WHERE s.stream_id = p_stream_id;
  v_version := coalesce(v_version, 0);

  -- One probe of the (stream_id, event_id) index per id keeps this O(batch). The LIMIT keeps
  -- the planner from flattening the probe into a join: an anti-join, or the plan cached for
  -- this function after a few calls, could scan every event of the stream, O(stream) per append.
  v_held := ARRAY(
    SELECT held.event_id FROM jsonb_array_elements(p_events) AS x(e)
    CROSS JOIN LATERAL (
      SELECT ev.event_id FROM events ev WHERE ev.stream_id = p_stream_id AND ev.event_id = x.e->>'id' LIMIT 1
    ) held);
  SELECT coalesce(jsonb_agg(x.e ORDER BY x.n), '[]'::jsonb) INTO v_new
  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
  WHERE NOT (x.e->>'id' = ANY (v_held));

  -- A retried append whose events are all stored already succeeds as a no-op, even though
  -- its expected version is stale by now.
  IF jsonb_array_length(p_events) = 0 OR jsonb_array_length(v_new) > 0 THEN
    IF NOT (p_expected = 'any'
        OR (p_expected = 'no_stream' AND v_version = 0)
        OR (p_expected = 'stream_exists' AND v_version > 0)
        OR (p_expected ~ '^[0-9]+$' AND p_expected::integer = v_version)) THEN
      RETURN QUERY SELECT v_version, NULL::xid8, NULL::bigint, true;
      RETURN;
    END IF;
  END IF;

  IF jsonb_array_length(v_new) = 0 THEN
    RETURN QUERY SELECT v_version, ev.transaction_id, ev.global_position, false
      FROM (SELECT 1) one LEFT JOIN events ev ON ev.stream_id = p_stream_id AND ev.stream_version = v_version;
    RETURN;
  END IF;

  -- Only possible when the caller's transaction wrote before appending (its id predates the
  -- lock): committing would put this stream's events out of order for subscribers.
  IF v_last_xact > pg_current_xact_id() THEN
    RAISE EXCEPTION 'stream % was appended by a newer transaction; retry the transaction', p_stream_id
      USING ERRCODE = 'serialization_failure';
  END IF;

  WITH inserted AS (
    INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata)
    SELECT p_stream_id, v_version + x.n::integer, x.e->>'id', x.e->>'type',
           coalesce(x.e->'data', 'null'::jsonb), coalesce(x.e->'metadata', '{}'::jsonb)
    FROM jsonb_array_elements(v_new) WITH ORDINALITY AS x(e, n)
    RETURNING global_position
  )
  SELECT max(inserted.global_position) INTO v_seq FROM inserted;

  v_version := v_version + jsonb_array_length(v_new);
  INSERT INTO streams (stream_id, version, last_xact) VALUES (p_stream_id, v_version, pg_current_xact_id())
  ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, last_xact = excluded.last_xact;

  -- The payload names the stream and the event types, so that subscribers whose filter takes
  -- none of them need not read at all.
  PERFORM pg_notify('cascade_events', p_stream_id || '|' || (SELECT string_agg(DISTINCT x.e->>'type', ',') FROM jsonb_array_elements(v_new) AS x(e)));
  RETURN QUERY SELECT v_version, pg_current_xact_id(), v_seq, false;
  END
  $fn$;
--> statement-breakpoint
-- Appends to several streams in one transaction (group commit across streams): each append
-- of p_appends ({stream, events, expected}) stands on its own expected version, in array order.
CREATE OR REPLACE FUNCTION cascade_append_batch(p_appends jsonb)
  RETURNS TABLE (n integer, next_version integer, position_xact xid8, position_seq bigint, conflict boolean)
  LANGUAGE plpgsql AS $fn$
  DECLARE
  v_key bigint;
  v_item jsonb;
  v_n bigint;
  BEGIN
  -- Every lock before the first write: this transaction gets its id only after each stream's
  -- previous appender committed, so per stream, transaction ids grow with versions, which is
  -- what lets subscribers order by (transaction_id, global_position). In one global order, so
  -- that two batches naming the same streams cannot deadlock.
  FOR v_key IN SELECT DISTINCT hashtextextended(a.e->>'stream', 0) FROM jsonb_array_elements(p_appends) AS a(e) ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR v_item, v_n IN SELECT a.e, a.n FROM jsonb_array_elements(p_appends) WITH ORDINALITY AS a(e, n) ORDER BY a.n LOOP
    RETURN QUERY SELECT v_n::integer, r.next_version, r.position_xact, r.position_seq, r.conflict
      FROM cascade_append_locked(v_item->>'stream', v_item->'events', v_item->>'expected') AS r;
  END LOOP;
  END
  $fn$;
