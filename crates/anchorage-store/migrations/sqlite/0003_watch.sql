-- Watch mode: subscriptions (Anchore §6.1), cluster-wide cycle leases, the re-match index
-- (which stored images hold which package names, and each image's current findings), feed
-- changes waiting to be re-matched, and webhook deliveries (one row per notification and hook).
CREATE TABLE subscriptions (
    subscription_id    TEXT PRIMARY KEY NOT NULL,
    account            TEXT NOT NULL,
    subscription_type  TEXT NOT NULL,
    subscription_key   TEXT NOT NULL,
    subscription_value TEXT,
    active             INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    last_updated       INTEGER NOT NULL
);
CREATE INDEX subscriptions_by_type ON subscriptions (subscription_type, active);
CREATE INDEX subscriptions_by_key ON subscriptions (account, subscription_key);
CREATE TABLE cycle_leases (
    name          TEXT PRIMARY KEY NOT NULL,
    owner         TEXT,
    lease_until   INTEGER NOT NULL DEFAULT 0,
    last_started  INTEGER NOT NULL DEFAULT 0,
    last_finished INTEGER NOT NULL DEFAULT 0,
    requested_at  INTEGER NOT NULL DEFAULT 0,
    runs          INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE TABLE match_subjects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    digest     TEXT NOT NULL UNIQUE,
    input      BLOB NOT NULL,
    findings   BLOB,
    matched_at INTEGER
);
CREATE TABLE match_index (
    name       TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    PRIMARY KEY (name, subject_id)
) WITHOUT ROWID;
CREATE INDEX match_index_subject ON match_index (subject_id);
CREATE TABLE feed_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    names      TEXT,
    created_at INTEGER NOT NULL,
    done_at    INTEGER
);
CREATE TABLE notifications (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id   TEXT NOT NULL,
    hook              TEXT NOT NULL,
    account           TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    subscription_key  TEXT NOT NULL,
    payload           TEXT NOT NULL,
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_until       INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    delivered_at      INTEGER
);
CREATE UNIQUE INDEX notifications_once ON notifications (notification_id, hook);
CREATE INDEX notifications_ready ON notifications (state, next_attempt_at);
CREATE INDEX notifications_account ON notifications (account, id);
CREATE INDEX evaluations_tag ON evaluations (account, tag, id);
