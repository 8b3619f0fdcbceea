-- The engine service (Anchore v1 API): accounts and users, images and their tags, analysis
-- documents (one per image digest, shared by every account that adds the image), the job queue,
-- policy bundles and their evaluations, registry credentials, events. Times are epoch seconds.
CREATE TABLE accounts (
    name         TEXT PRIMARY KEY NOT NULL,
    email        TEXT,
    type         TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    account       TEXT NOT NULL REFERENCES accounts (name),
    password_hash TEXT NOT NULL,
    type          TEXT NOT NULL,
    source        TEXT,
    created_at    BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);
CREATE INDEX users_account ON users (account);
CREATE TABLE analyses (
    digest       TEXT PRIMARY KEY NOT NULL,
    image_id     TEXT NOT NULL,
    encoding     TEXT NOT NULL,
    document     BYTEA NOT NULL,
    raw_size     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
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
    created_at      BIGINT NOT NULL,
    last_updated    BIGINT NOT NULL,
    analyzed_at     BIGINT,
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
    created_at      BIGINT NOT NULL,
    last_updated    BIGINT NOT NULL,
    tag_detected_at BIGINT NOT NULL,
    PRIMARY KEY (account, digest, fulltag)
);
CREATE INDEX image_tags_fulltag ON image_tags (account, fulltag);
CREATE TABLE jobs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL,
    account       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, id);
CREATE UNIQUE INDEX jobs_one_open ON jobs (kind, account, subject) WHERE state IN ('queued', 'running');
CREATE TABLE policies (
    account      TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    active       BIGINT NOT NULL,
    name         TEXT,
    description  TEXT,
    bundle       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (account, policy_id)
);
CREATE TABLE evaluations (
    id           BIGSERIAL PRIMARY KEY,
    account      TEXT NOT NULL,
    digest       TEXT NOT NULL,
    tag          TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    final_action TEXT NOT NULL,
    status       TEXT NOT NULL,
    document     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX evaluations_image ON evaluations (account, digest, tag, id);
CREATE TABLE registries (
    account         TEXT NOT NULL,
    registry        TEXT NOT NULL,
    registry_name   TEXT NOT NULL,
    registry_user   TEXT NOT NULL,
    registry_secret BYTEA NOT NULL,
    registry_type   TEXT NOT NULL,
    registry_verify BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_updated    BIGINT NOT NULL,
    PRIMARY KEY (account, registry)
);
CREATE TABLE events (
    id            TEXT PRIMARY KEY NOT NULL,
    seq           BIGINT NOT NULL,
    account       TEXT NOT NULL,
    type          TEXT NOT NULL,
    level         TEXT NOT NULL,
    message       TEXT NOT NULL,
    details       TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX events_account ON events (account, seq);
