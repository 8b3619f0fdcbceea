-- The engine service (Anchore v1 API): accounts and users, images and their tags, analysis
-- documents (one per image digest, shared by every account that adds the image), the job queue,
-- policy bundles and their evaluations, registry credentials, events. Times are epoch seconds.
CREATE TABLE accounts (
    name         TEXT PRIMARY KEY NOT NULL,
    email        TEXT,
    type         TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_updated INTEGER NOT NULL
);
CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    account       TEXT NOT NULL REFERENCES accounts (name),
    password_hash TEXT NOT NULL,
    type          TEXT NOT NULL,
    source        TEXT,
    created_at    INTEGER NOT NULL,
    last_updated  INTEGER NOT NULL
);
CREATE INDEX users_account ON users (account);
CREATE TABLE analyses (
    digest       TEXT PRIMARY KEY NOT NULL,
    image_id     TEXT NOT NULL,
    encoding     TEXT NOT NULL,
    document     BLOB NOT NULL,
    raw_size     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE TABLE images (
    account         TEXT NOT NULL REFERENCES accounts (name),
    digest          TEXT NOT NULL,
    parent_digest   TEXT NOT NULL,
    image_id        TEXT NOT NULL DEFAULT '',
    image_status    TEXT NOT NULL,
    analysis_status TEXT NOT NULL,
    failure_reason  TEXT,
    annotations     TEXT NOT NULL DEFAULT '{}',
    pull_ref        TEXT NOT NULL,
    dockerfile      TEXT,
    metadata        TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    last_updated    INTEGER NOT NULL,
    analyzed_at     INTEGER,
    PRIMARY KEY (account, digest)
);
CREATE INDEX images_digest ON images (digest);
CREATE TABLE image_tags (
    account         TEXT NOT NULL,
    digest          TEXT NOT NULL,
    registry        TEXT NOT NULL,
    repo            TEXT NOT NULL,
    tag             TEXT NOT NULL,
    fulltag         TEXT NOT NULL,
    dockerfile      TEXT,
    created_at      INTEGER NOT NULL,
    last_updated    INTEGER NOT NULL,
    tag_detected_at INTEGER NOT NULL,
    PRIMARY KEY (account, digest, fulltag)
);
CREATE INDEX image_tags_fulltag ON image_tags (account, fulltag);
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    account       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    lease_owner   TEXT,
    lease_until   INTEGER,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, id);
CREATE UNIQUE INDEX jobs_one_open ON jobs (kind, account, subject) WHERE state IN ('queued', 'running');
CREATE TABLE policies (
    account      TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    active       INTEGER NOT NULL,
    name         TEXT,
    description  TEXT,
    bundle       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    PRIMARY KEY (account, policy_id)
);
CREATE TABLE evaluations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account      TEXT NOT NULL,
    digest       TEXT NOT NULL,
    tag          TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    final_action TEXT NOT NULL,
    status       TEXT NOT NULL,
    document     TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX evaluations_image ON evaluations (account, digest, tag, id);
CREATE TABLE registries (
    account         TEXT NOT NULL,
    registry        TEXT NOT NULL,
    registry_name   TEXT NOT NULL,
    registry_user   TEXT NOT NULL,
    registry_secret BLOB NOT NULL,
    registry_type   TEXT NOT NULL,
    registry_verify INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_updated    INTEGER NOT NULL,
    PRIMARY KEY (account, registry)
);
CREATE TABLE events (
    id            TEXT PRIMARY KEY NOT NULL,
    seq           INTEGER NOT NULL,
    account       TEXT NOT NULL,
    type          TEXT NOT NULL,
    level         TEXT NOT NULL,
    message       TEXT NOT NULL,
    details       TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX events_account ON events (account, seq);
