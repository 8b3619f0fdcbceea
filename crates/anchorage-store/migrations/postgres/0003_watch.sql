-- Watch mode: subscriptions (Anchore §6.1), cluster-wide cycle leases, the re-match index
-- (which stored images hold which package names, and each image's current findings), feed
-- changes waiting to be re-matched, and webhook deliveries (one row per notification and hook).
CREATE TABLE subscriptions (
    subscription_id    TEXT PRIMARY KEY NOT NULL,
    account            TEXT NOT NULL,
    subscription_type  TEXT NOT NULL,
    subscription_key   TEXT NOT NULL,
    subscription_value TEXT,
    active             BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_updated       BIGINT NOT NULL
);
CREATE INDEX subscriptions_by_type ON subscriptions (subscription_type, active);
CREATE INDEX subscriptions_by_key ON subscriptions (account, subscription_key);
CREATE TABLE cycle_leases (
    name          TEXT PRIMARY KEY NOT NULL,
    owner         TEXT,
    lease_until   BIGINT NOT NULL DEFAULT 0,
    last_started  BIGINT NOT NULL DEFAULT 0,
    last_finished BIGINT NOT NULL DEFAULT 0,
    requested_at  BIGINT NOT NULL DEFAULT 0,
    runs          BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE TABLE match_subjects (
    id         BIGSERIAL PRIMARY KEY,
    digest     TEXT NOT NULL UNIQUE,
    input      BYTEA NOT NULL,
    findings   BYTEA,
    matched_at BIGINT
);
CREATE TABLE match_index (
    name       TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    PRIMARY KEY (name, subject_id)
);
CREATE INDEX match_index_subject ON match_index (subject_id);
CREATE TABLE feed_changes (
    id         BIGSERIAL PRIMARY KEY,
    names      TEXT,
    created_at BIGINT NOT NULL,
    done_at    BIGINT
);
CREATE TABLE notifications (
    id                BIGSERIAL PRIMARY KEY,
    notification_id   TEXT NOT NULL,
    hook              TEXT NOT NULL,
    account           TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    subscription_key  TEXT NOT NULL,
    payload           TEXT NOT NULL,
    state             TEXT NOT NULL,
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT NOT NULL,
    lease_owner       TEXT,
    lease_until       BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    delivered_at      BIGINT
);
CREATE UNIQUE INDEX notifications_once ON notifications (notification_id, hook);
CREATE INDEX notifications_ready ON notifications (state, next_attempt_at);
CREATE INDEX notifications_account ON notifications (account, id);
CREATE INDEX evaluations_tag ON evaluations (account, tag, id);
