//! `anchorage image add|list|get|wait|content|vuln|del` (anchore-cli's `image` group).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish, py_bool};
use super::lookup;
use super::table::{Table, cell, fields, items, print_json};
use crate::ExitStatus;

/// Largest Dockerfile sent with `image add --dockerfile`.
const MAX_DOCKERFILE_BYTES: u64 = 1 << 20;

/// Subcommands of `anchorage image`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Add an image by tag; the engine resolves its digest and queues the analysis.
    Add(AddArgs),
    /// List the account's images (the newest image of each tag).
    List(ListArgs),
    /// Show an image by tag, digest or image ID.
    Get(GetArgs),
    /// Wait until an image is analyzed (or its analysis failed), then show it.
    Wait(WaitArgs),
    /// List the content types, or show the content of one type (os, files, npm, ...).
    Content(ContentArgs),
    /// List the vulnerability types, or show the vulnerabilities of one (os, non-os, all).
    Vuln(VulnArgs),
    /// Delete an image (or every image with --all).
    Del(DelArgs),
}

/// Arguments of `image add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Image tag, e.g. `registry.example.com/team/app:1.0`.
    tag: String,
    /// Re-analyze even when the image is already analyzed.
    #[arg(long)]
    force: bool,
    /// The Dockerfile the image was built from (enables the actual-Dockerfile policy checks).
    #[arg(long, value_name = "FILE")]
    dockerfile: Option<PathBuf>,
    /// Annotation `KEY=VALUE`; repeatable.
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Do not subscribe to tag updates.
    #[arg(long)]
    noautosubscribe: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `image list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Also show image IDs.
    #[arg(long)]
    full: bool,
    /// Show every image of a tag, not only the newest.
    #[arg(long)]
    show_all: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `image get`.
#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// Tag, digest (`sha256:...`) or image ID.
    image: String,
    /// Show every image the tag has pointed at.
    #[arg(long)]
    show_history: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `image wait`.
#[derive(Debug, clap::Args)]
pub(crate) struct WaitArgs {
    /// Tag, digest or image ID.
    image: String,
    /// Seconds to wait at most (-1: forever).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    timeout: i64,
    /// Seconds between polls.
    #[arg(long, default_value_t = 5)]
    interval: u64,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `image content`.
#[derive(Debug, clap::Args)]
pub(crate) struct ContentArgs {
    /// Tag, digest or image ID.
    image: String,
    /// Content type (os, files, npm, gem, python, java, go, binary, malware, manifest,
    /// dockerfile, docker_history); none lists the types.
    content_type: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `image vuln`.
#[derive(Debug, clap::Args)]
pub(crate) struct VulnArgs {
    /// Tag, digest or image ID.
    image: String,
    /// os, non-os or all; none lists the types.
    vuln_type: Option<String>,
    /// Hide vulnerabilities the distro vendor will not fix.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), value_name = "BOOL")]
    vendor_only: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `image del`.
#[derive(Debug, clap::Args)]
pub(crate) struct DelArgs {
    /// Tag, digest or image ID (omit with --all).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    image: Option<String>,
    /// Delete every image of the account.
    #[arg(long)]
    all: bool,
    /// Delete even an image being analyzed.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::Add(a) => &a.conn,
            Command::List(a) => &a.conn,
            Command::Get(a) => &a.conn,
            Command::Wait(a) => &a.conn,
            Command::Content(a) => &a.conn,
            Command::Vuln(a) => &a.conn,
            Command::Del(a) => &a.conn,
        }
    }
}

/// Runs `anchorage image ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::Add(a) => add(&api, a).await,
        Command::List(a) => list(&api, &a).await,
        Command::Get(a) => get(&api, &a).await,
        Command::Wait(a) => wait(&api, &a).await,
        Command::Content(a) => content(&api, &a).await,
        Command::Vuln(a) => vuln(&api, &a).await,
        Command::Del(a) => del(&api, &a).await,
    };
    Ok(finish(&api, result))
}

/// Prints image records like anchore-cli's image formatter (or the raw JSON).
pub(crate) fn print_images(api: &Api, records: &Value) {
    if api.json() {
        print_json(records);
        return;
    }
    let s = |v: &Value| cell(v);
    for (i, r) in items(records).into_iter().enumerate() {
        if i > 0 {
            println!();
        }
        let detail0 = &r["image_detail"][0];
        let mut out = vec![("Image Digest", s(&r["imageDigest"]))];
        if r.get("parentDigest").is_some_and(|p| !p.is_null()) {
            out.push(("Parent Digest", s(&r["parentDigest"])));
        }
        out.push(("Analysis Status", s(&r["analysis_status"])));
        if let Some(reason) = r["analysis_failure_reason"].as_str() {
            out.push(("Analysis Failure Reason", reason.to_string()));
        }
        out.push(("Image Type", s(&r["image_type"])));
        out.push(("Analyzed At", s(&r["analyzed_at"])));
        out.push(("Image ID", s(&detail0["imageId"])));
        let meta = &r["image_content"]["metadata"];
        if meta.as_object().is_some_and(|m| !m.is_empty()) {
            out.push(("Dockerfile Mode", s(&meta["dockerfile_mode"])));
            out.push(("Distro", s(&meta["distro"])));
            out.push(("Distro Version", s(&meta["distro_version"])));
            out.push(("Size", s(&meta["image_size"])));
            out.push(("Architecture", s(&meta["arch"])));
            out.push(("Layer Count", s(&meta["layer_count"])));
        }
        if let Some(ann) = r["annotations"].as_object().filter(|a| !a.is_empty()) {
            let text = ann
                .iter()
                .map(|(k, v)| format!("{k}={}", cell(v)))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(("Annotations", text));
        }
        fields(&out);
        for d in items(&r["image_detail"]) {
            println!();
            fields(&[
                ("Full Tag", s(&d["fulltag"])),
                ("Tag Detected At", s(&d["tag_detected_at"])),
            ]);
        }
    }
}

async fn add(api: &Api, a: AddArgs) -> ClientResult<ExitStatus> {
    if matches!(lookup::ImageRef::parse(&a.tag), lookup::ImageRef::Digest(_)) {
        return Err(ClientError::msg(
            "image add takes a tag (registry/repo:tag), not a digest",
        ));
    }
    let mut body = Map::new();
    body.insert("tag".into(), json!(a.tag));
    if let Some(path) = &a.dockerfile {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if size > MAX_DOCKERFILE_BYTES {
            return Err(ClientError::msg(format!(
                "{} is {size} bytes; the limit is {MAX_DOCKERFILE_BYTES}",
                path.display()
            )));
        }
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        body.insert(
            "dockerfile".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(text)),
        );
    }
    if !a.annotations.is_empty() {
        let mut ann = Map::new();
        for kv in &a.annotations {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| ClientError::msg(format!("annotation {kv:?} is not KEY=VALUE")))?;
            ann.insert(k.to_string(), json!(v));
        }
        body.insert("annotations".into(), Value::Object(ann));
    }
    let mut query = vec![("autosubscribe", py_bool(!a.noautosubscribe))];
    if a.force {
        query.push(("force", "true".to_string()));
    }
    let records = api
        .post(&["images"], &query, Some(&Value::Object(body)))
        .await?;
    print_images(api, &records);
    Ok(ExitStatus::Ok)
}

async fn list(api: &Api, a: &ListArgs) -> ClientResult<ExitStatus> {
    let records = api.get(&["images"], &[]).await?;
    if api.json() {
        print_json(&records);
        return Ok(ExitStatus::Ok);
    }
    // One row per (image, tag); unless --show-all only the newest image of each tag.
    let mut rows: Vec<(String, String, Vec<String>)> = Vec::new();
    for r in items(&records) {
        for d in items(&r["image_detail"]) {
            let fulltag = format!(
                "{}/{}:{}",
                cell(&d["registry"]),
                cell(&d["repo"]),
                cell(&d["tag"])
            );
            let created = d["created_at"].as_str().unwrap_or_default().to_string();
            let mut row = vec![
                fulltag.clone(),
                cell(&r["imageDigest"]),
                cell(&r["analysis_status"]),
            ];
            if a.full {
                row.push(cell(&d["imageId"]));
            }
            rows.push((fulltag, created, row));
        }
    }
    if !a.show_all {
        let mut newest: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for (tag, created, row) in rows {
            match newest.get(&tag) {
                Some((c, _)) if *c >= created => {}
                _ => {
                    newest.insert(tag, (created, row));
                }
            }
        }
        rows = newest
            .into_iter()
            .map(|(tag, (created, row))| (tag, created, row))
            .collect();
    }
    let mut header = vec!["Full Tag", "Image Digest", "Analysis Status"];
    if a.full {
        header.push("Image ID");
    }
    let mut t = Table::new(&header);
    for (_, _, row) in rows {
        t.row(row);
    }
    t.sort_by_key(|r| r.first().cloned());
    t.print();
    Ok(ExitStatus::Ok)
}

async fn get(api: &Api, a: &GetArgs) -> ClientResult<ExitStatus> {
    let records = lookup::records(api, &a.image, a.show_history).await?;
    print_images(api, &records);
    Ok(ExitStatus::Ok)
}

async fn wait(api: &Api, a: &WaitArgs) -> ClientResult<ExitStatus> {
    let start = Instant::now();
    let timeout = u64::try_from(a.timeout).ok().map(Duration::from_secs);
    loop {
        let records = lookup::records(api, &a.image, false).await?;
        let status = records[0]["analysis_status"]
            .as_str()
            .ok_or_else(|| ClientError::msg("Requested image not found in system"))?
            .to_string();
        if matches!(status.as_str(), "analyzed" | "analysis_failed") {
            print_images(api, &records);
            return Ok(ExitStatus::Ok);
        }
        eprintln!("Status: {status}");
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            return Err(ClientError::msg(format!(
                "timed out after {}s waiting for {} to be analyzed (status: {status})",
                a.timeout, a.image
            )));
        }
        eprintln!("Waiting {} seconds for next retry.", a.interval);
        tokio::time::sleep(Duration::from_secs(a.interval.max(1))).await;
    }
}

/// Columns of a content type's table: (header, row key).
fn content_columns(ctype: &str) -> &'static [(&'static str, &'static str)] {
    match ctype {
        "os" => &[
            ("Package", "package"),
            ("Version", "version"),
            ("Licenses", "licenses"),
        ],
        "files" => &[("Filename", "filename"), ("Size", "size")],
        "java" => &[
            ("Package", "package"),
            ("Specification-Version", "specification-version"),
            ("Implementation-Version", "implementation-version"),
            ("Location", "location"),
        ],
        _ => &[
            ("Package", "package"),
            ("Version", "version"),
            ("Location", "location"),
        ],
    }
}

async fn content(api: &Api, a: &ContentArgs) -> ClientResult<ExitStatus> {
    let digest = lookup::digest(api, &a.image).await?;
    let Some(ctype) = &a.content_type else {
        let types = api.get(&["images", &digest, "content"], &[]).await?;
        if api.json() {
            print_json(&types);
        } else {
            for t in items(&types) {
                println!("{}: available", cell(t));
            }
        }
        return Ok(ExitStatus::Ok);
    };
    let doc = api
        .get(&["images", &digest, "content", ctype.as_str()], &[])
        .await?;
    if api.json() {
        print_json(&doc);
        return Ok(ExitStatus::Ok);
    }
    let content = &doc["content"];
    // Manifest, Dockerfile and layer history come as base64 text.
    if matches!(ctype.as_str(), "manifest" | "dockerfile" | "docker_history") {
        let encoded = match content {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
            _ => String::new(),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| ClientError::msg(format!("the {ctype} content is not base64: {e}")))?;
        println!("{}", String::from_utf8_lossy(&bytes));
        return Ok(ExitStatus::Ok);
    }
    if ctype == "malware" {
        let mut t = Table::new(&["Scanner", "Matched Signature", "Path"]);
        for scan in items(content) {
            for f in items(&scan["findings"]) {
                t.row(vec![
                    cell(&scan["scanner"]),
                    cell(&f["signature"]),
                    cell(&f["path"]),
                ]);
            }
        }
        t.print();
        return Ok(ExitStatus::Ok);
    }
    let columns = content_columns(ctype);
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let mut t = Table::new(&headers);
    let mut rows: Vec<&Value> = items(content);
    if ctype == "files" {
        rows.sort_by_key(|r| std::cmp::Reverse(r["size"].as_u64().unwrap_or(0)));
    }
    for r in rows {
        t.row(
            columns
                .iter()
                .map(|(_, key)| {
                    let v = &r[*key];
                    if *key == "licenses" && v.as_array().is_none_or(Vec::is_empty) {
                        cell(&r["license"])
                    } else {
                        cell(v)
                    }
                })
                .collect(),
        );
    }
    t.print();
    Ok(ExitStatus::Ok)
}

/// Rank of a severity name, worst first.
fn severity_rank(s: &str) -> u8 {
    match s.to_ascii_lowercase().as_str() {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        "negligible" => 4,
        _ => 5,
    }
}

async fn vuln(api: &Api, a: &VulnArgs) -> ClientResult<ExitStatus> {
    let digest = lookup::digest(api, &a.image).await?;
    let vendor_only = [("vendor_only", py_bool(a.vendor_only))];
    let Some(vtype) = &a.vuln_type else {
        let types = api.get(&["images", &digest, "vuln"], &vendor_only).await?;
        if api.json() {
            print_json(&types);
        } else {
            for t in items(&types) {
                println!("{}", cell(t));
            }
        }
        return Ok(ExitStatus::Ok);
    };
    let doc = api
        .get(&["images", &digest, "vuln", vtype.as_str()], &vendor_only)
        .await?;
    if api.json() {
        print_json(&doc);
        return Ok(ExitStatus::Ok);
    }
    let mut t = Table::new(&[
        "Vulnerability ID",
        "Package",
        "Severity",
        "Fix",
        "CVE Refs",
        "Vulnerability URL",
        "Type",
        "Feed Group",
        "Package Path",
    ]);
    for v in items(&doc["vulnerabilities"]) {
        let refs: Vec<String> = items(&v["nvd_data"])
            .into_iter()
            .filter_map(|n| n["id"].as_str().map(str::to_string))
            .collect();
        t.row(vec![
            cell(&v["vuln"]),
            cell(&v["package"]),
            cell(&v["severity"]),
            cell(&v["fix"]),
            refs.join(","),
            cell(&v["url"]),
            cell(&v["package_type"]),
            cell(&v["feed_group"]),
            cell(&v["package_path"]),
        ]);
    }
    t.sort_by_key(|r| {
        (
            severity_rank(r.get(2).map_or("", String::as_str)),
            r.first().cloned(),
            r.get(1).cloned(),
        )
    });
    t.print();
    Ok(ExitStatus::Ok)
}

/// Deletes one image by digest; prints the outcome. `Refused` when the engine keeps it.
async fn delete_one(api: &Api, digest: &str, force: bool, label: &str) -> ClientResult<ExitStatus> {
    let query: Vec<(&str, String)> = if force {
        vec![("force", py_bool(true))]
    } else {
        Vec::new()
    };
    let answer = api.delete(&["images", digest], &query).await?;
    if api.json() {
        print_json(&answer);
    }
    match answer.get("status").and_then(Value::as_str) {
        Some("deleting") | None => {
            if !api.json() {
                println!("Deleted {label}");
            }
            Ok(ExitStatus::Ok)
        }
        Some(status) => {
            eprintln!("Error: {label}: {status}: {}", cell(&answer["detail"]));
            Ok(ExitStatus::Refused)
        }
    }
}

async fn del(api: &Api, a: &DelArgs) -> ClientResult<ExitStatus> {
    if let Some(image) = &a.image {
        let digest = lookup::digest(api, image).await?;
        return delete_one(api, &digest, a.force, image).await;
    }
    let records = api.get(&["images"], &[]).await?;
    let mut worst = ExitStatus::Ok;
    for r in items(&records) {
        let Some(digest) = r["imageDigest"].as_str() else {
            continue;
        };
        let d = &r["image_detail"][0];
        let label = if d.is_object() {
            format!(
                "{}/{}:{}",
                cell(&d["registry"]),
                cell(&d["repo"]),
                cell(&d["tag"])
            )
        } else {
            digest.to_string()
        };
        if delete_one(api, digest, a.force, &label).await? != ExitStatus::Ok {
            worst = ExitStatus::Refused;
        }
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_sort_worst_first() {
        let mut v = ["Low", "Critical", "Unknown", "High", "Medium", "Negligible"];
        v.sort_by_key(|s| severity_rank(s));
        assert_eq!(
            v,
            ["Critical", "High", "Medium", "Low", "Negligible", "Unknown"]
        );
    }
}
