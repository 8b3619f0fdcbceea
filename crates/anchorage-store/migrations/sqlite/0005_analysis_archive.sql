-- The analysis archive (Anchore §2.12): images whose analysis was moved out of the live tables
-- into the archive store (a directory or an S3 bucket), and the transition rules that archive
-- images and delete archived ones. Times are epoch seconds.
CREATE TABLE archived_images (
    account            TEXT NOT NULL,
    digest             TEXT NOT NULL,
    parent_digest      TEXT NOT NULL,
    image_id           TEXT NOT NULL,
    status             TEXT NOT NULL,
    annotations        TEXT NOT NULL DEFAULT '{}',
    tags               TEXT NOT NULL DEFAULT '[]',
    object_key         TEXT NOT NULL,
    archive_size_bytes INTEGER NOT NULL,
    analyzed_at        INTEGER,
    image_created_at   INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    last_updated       INTEGER NOT NULL,
    PRIMARY KEY (account, digest)
);
CREATE TABLE archive_rules (
    rule_id                 TEXT PRIMARY KEY NOT NULL,
    account                 TEXT NOT NULL,
    transition              TEXT NOT NULL,
    system_global           INTEGER NOT NULL,
    analysis_age_days       INTEGER NOT NULL,
    tag_versions_newer      INTEGER NOT NULL,
    selector_registry       TEXT NOT NULL,
    selector_repository     TEXT NOT NULL,
    selector_tag            TEXT NOT NULL,
    exclude_registry        TEXT NOT NULL,
    exclude_repository      TEXT NOT NULL,
    exclude_tag             TEXT NOT NULL,
    exclude_expiration_days INTEGER NOT NULL,
    max_images_per_account  INTEGER,
    created_at              INTEGER NOT NULL,
    last_updated            INTEGER NOT NULL
);
CREATE INDEX archive_rules_account ON archive_rules (account);
