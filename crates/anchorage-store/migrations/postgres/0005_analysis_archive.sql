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
    archive_size_bytes BIGINT NOT NULL,
    analyzed_at        BIGINT,
    image_created_at   BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_updated       BIGINT NOT NULL,
    PRIMARY KEY (account, digest)
);
CREATE TABLE archive_rules (
    rule_id                 TEXT PRIMARY KEY NOT NULL,
    account                 TEXT NOT NULL,
    transition              TEXT NOT NULL,
    system_global           BIGINT NOT NULL,
    analysis_age_days       BIGINT NOT NULL,
    tag_versions_newer      BIGINT NOT NULL,
    selector_registry       TEXT NOT NULL,
    selector_repository     TEXT NOT NULL,
    selector_tag            TEXT NOT NULL,
    exclude_registry        TEXT NOT NULL,
    exclude_repository      TEXT NOT NULL,
    exclude_tag             TEXT NOT NULL,
    exclude_expiration_days BIGINT NOT NULL,
    max_images_per_account  BIGINT,
    created_at              BIGINT NOT NULL,
    last_updated            BIGINT NOT NULL
);
CREATE INDEX archive_rules_account ON archive_rules (account);
