-- One row per running `anchorage serve` process (any role), refreshed by its heartbeat and
-- marked down when it stops gracefully; `GET system` lists them (Anchore's `services` table).
-- Times are epoch seconds.
CREATE TABLE services (
    host_id           TEXT PRIMARY KEY NOT NULL,
    role              TEXT NOT NULL,
    version           TEXT NOT NULL,
    base_url          TEXT NOT NULL,
    status            TEXT NOT NULL,
    heartbeat_seconds BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    last_heartbeat    BIGINT NOT NULL
);
CREATE INDEX services_last_heartbeat ON services (last_heartbeat);
