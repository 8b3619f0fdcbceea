//! Image metadata from the manifest and config JSON, and the Dockerfile reconstructed from the
//! config history (Anchore's `Guessed` mode) or supplied by the user (`Actual`).

use std::collections::BTreeMap;

use anchorage_image::AcquiredImage;
use anchorage_types::Digest;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cataloger::CatalogContext;
use crate::model::{
    Dockerfile, DockerfileMode, HistoryEntry, ImageMetadata, LayerInfo, RuntimeConfig,
};

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn keys(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn opt_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The runtime configuration from a config's `config` object.
fn runtime_config(c: Option<&Value>) -> RuntimeConfig {
    let Some(c) = c else {
        return RuntimeConfig::default();
    };
    let labels: BTreeMap<String, String> = match c.get("Labels") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    let healthcheck = c
        .get("Healthcheck")
        .map(|h| strings(h.get("Test")))
        .filter(|t| !t.is_empty());
    RuntimeConfig {
        env: strings(c.get("Env")),
        entrypoint: strings(c.get("Entrypoint")),
        cmd: strings(c.get("Cmd")),
        user: opt_str(c.get("User")),
        working_dir: opt_str(c.get("WorkingDir")),
        exposed_ports: keys(c.get("ExposedPorts")),
        volumes: keys(c.get("Volumes")),
        labels,
        healthcheck,
        stop_signal: opt_str(c.get("StopSignal")),
    }
}

fn parse_json(raw: Option<&str>, what: &str, ctx: &mut CatalogContext) -> Option<Value> {
    let raw = raw?;
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => Some(v),
        Err(e) => {
            ctx.warn(
                "image_metadata",
                None,
                format!("{what} is not valid JSON: {e}"),
            );
            None
        }
    }
}

/// Builds the image metadata. `dockerfile` is the user's Dockerfile, if any (`Actual` mode).
pub(crate) fn image_metadata(
    image: &AcquiredImage,
    dockerfile: Option<&str>,
    ctx: &mut CatalogContext,
) -> ImageMetadata {
    let config = parse_json(image.config_json.as_deref(), "image config", ctx);
    let manifest = parse_json(image.manifest_json.as_deref(), "image manifest", ctx);
    let cfg = config.as_ref();
    let history: Vec<HistoryEntry> = match cfg.and_then(|c| c.get("history")) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|h| HistoryEntry {
                created: opt_str(h.get("created")),
                created_by: opt_str(h.get("created_by")),
                empty_layer: h
                    .get("empty_layer")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                comment: opt_str(h.get("comment")),
            })
            .collect(),
        _ => Vec::new(),
    };
    let layer_commands: Vec<Option<String>> = history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.clone())
        .collect();
    let mut layers: Vec<LayerInfo> = image
        .layers
        .iter()
        .map(|l| LayerInfo {
            digest: l.digest.clone(),
            diff_id: l.diff_id.clone(),
            size: l.size,
            media_type: l.media_type.clone(),
            created_by: None,
        })
        .collect();
    if layers.is_empty() {
        layers = layers_from_json(manifest.as_ref(), cfg);
    }
    for (i, l) in layers.iter_mut().enumerate() {
        l.created_by = layer_commands.get(i).cloned().flatten();
    }
    let dockerfile = match dockerfile {
        Some(text) => Some(Dockerfile {
            mode: DockerfileMode::Actual,
            text: text.to_string(),
        }),
        None if !history.is_empty() => Some(Dockerfile {
            mode: DockerfileMode::Guessed,
            text: reconstruct_dockerfile(&history),
        }),
        None => None,
    };
    let os = opt_str(cfg.and_then(|c| c.get("os"))).unwrap_or_else(|| image.platform.os.clone());
    let architecture = opt_str(cfg.and_then(|c| c.get("architecture")))
        .unwrap_or_else(|| image.platform.architecture.clone());
    let variant =
        opt_str(cfg.and_then(|c| c.get("variant"))).or_else(|| image.platform.variant.clone());
    ImageMetadata {
        os,
        architecture,
        variant,
        created: opt_str(cfg.and_then(|c| c.get("created")))
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&Utc)),
        author: opt_str(cfg.and_then(|c| c.get("author"))),
        image_size: layers.iter().map(|l| l.size).sum(),
        layer_count: layers.len(),
        layers,
        config: runtime_config(cfg.and_then(|c| c.get("config"))),
        history,
        dockerfile,
        manifest_json: image.manifest_json.clone(),
        config_json: image.config_json.clone(),
    }
}

/// Describes the layers from the manifest and config JSON alone, for an image whose blobs were
/// never acquired (`image.layers` empty). Deliberately distinct from anchorage-image's layer-list
/// builder (`ImageManifest::plan_layers` / `ImageConfigDoc::pair_diff_ids`): that one guards
/// acquisition, so a diff_id count mismatch is an error and every layer gets a local blob; this
/// one only reports metadata, so it never fails (a missing manifest yields diff_id-only layers,
/// an unparseable digest or a short diff_id list leaves the field empty) and has no blob paths.
fn layers_from_json(manifest: Option<&Value>, config: Option<&Value>) -> Vec<LayerInfo> {
    let diff_ids: Vec<Option<Digest>> = config
        .and_then(|c| c.get("rootfs"))
        .map(|r| strings(r.get("diff_ids")))
        .unwrap_or_default()
        .iter()
        .map(|s| s.parse().ok())
        .collect();
    let Some(Value::Array(ls)) = manifest.and_then(|m| m.get("layers")) else {
        return diff_ids
            .into_iter()
            .map(|d| LayerInfo {
                digest: None,
                diff_id: d,
                size: 0,
                media_type: String::new(),
                created_by: None,
            })
            .collect();
    };
    ls.iter()
        .enumerate()
        .map(|(i, l)| LayerInfo {
            digest: l
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok()),
            diff_id: diff_ids.get(i).cloned().flatten(),
            size: l.get("size").and_then(Value::as_u64).unwrap_or(0),
            media_type: opt_str(l.get("mediaType")).unwrap_or_default(),
            created_by: None,
        })
        .collect()
}

const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Turns one history `created_by` into a Dockerfile line.
pub fn dockerfile_line(created_by: &str, empty_layer: bool) -> String {
    let s = created_by.trim();
    let s = s.strip_suffix("# buildkit").map_or(s, str::trim_end);
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        return rest.trim().to_string();
    }
    if let Some(rest) = s.strip_prefix("/bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    if let Some(rest) = s.strip_prefix("RUN ") {
        // Buildkit: `RUN |2 A=1 B=2 /bin/sh -c cmd` -> `RUN cmd`.
        let mut rest = rest.trim_start();
        if let Some(after_bar) = rest.strip_prefix('|') {
            let mut parts = after_bar.splitn(2, ' ');
            let n: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut tail = parts.next().unwrap_or("");
            for _ in 0..n {
                tail = tail.split_once(' ').map_or("", |(_, t)| t);
            }
            rest = tail;
        }
        let rest = rest.strip_prefix("/bin/sh -c ").unwrap_or(rest);
        return format!("RUN {}", rest.trim());
    }
    let first = s.split_whitespace().next().unwrap_or("");
    if INSTRUCTIONS.contains(&first) {
        return s.to_string();
    }
    if empty_layer || s.is_empty() {
        format!("# {s}")
    } else {
        format!("RUN {s}")
    }
}

/// Reconstructs a Dockerfile from history (`FROM scratch` then one line per step).
pub fn reconstruct_dockerfile(history: &[HistoryEntry]) -> String {
    let mut lines = vec!["FROM scratch".to_string()];
    for h in history {
        if let Some(c) = &h.created_by {
            lines.push(dockerfile_line(c, h.empty_layer));
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_classic_and_buildkit_forms() {
        assert_eq!(
            dockerfile_line("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", true),
            "CMD [\"/bin/sh\"]"
        );
        assert_eq!(
            dockerfile_line("/bin/sh -c apk add curl", false),
            "RUN apk add curl"
        );
        assert_eq!(
            dockerfile_line("RUN |2 A=1 B=2 /bin/sh -c make install # buildkit", false),
            "RUN make install"
        );
        assert_eq!(
            dockerfile_line("RUN /bin/sh -c apt-get update # buildkit", false),
            "RUN apt-get update"
        );
        assert_eq!(dockerfile_line("WORKDIR /app", true), "WORKDIR /app");
        assert_eq!(dockerfile_line("umoci config", true), "# umoci config");
    }

    #[test]
    fn synthetic_full_config_fields() {
        let config = r#"{"architecture":"arm64","variant":"v8","os":"linux",
          "created":"2024-05-01T10:00:00Z","author":"me",
          "config":{"User":"app","Env":["A=1"],"Entrypoint":["/entry"],"Cmd":["run"],
            "WorkingDir":"/srv","ExposedPorts":{"80/tcp":{},"53/udp":{}},
            "Volumes":{"/data":{}},"Labels":{"org.opencontainers.image.title":"x"},
            "Healthcheck":{"Test":["CMD","curl","-f","http://localhost/"]},"StopSignal":"SIGTERM"},
          "rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]},
          "history":[{"created_by":"/bin/sh -c #(nop) ADD file:abc in / "},
                     {"created_by":"/bin/sh -c #(nop)  CMD [\"run\"]","empty_layer":true}]}"#;
        let manifest = r#"{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",
          "digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":1234}]}"#;
        let image = AcquiredImage {
            scheme: "registry".into(),
            input: "x".into(),
            reference: None,
            manifest_digest: None,
            index_digest: None,
            manifest_json: Some(manifest.into()),
            config_digest: None,
            config_json: Some(config.into()),
            platform: anchorage_types::Platform::linux_amd64(),
            layers: Vec::new(),
            root_dir: None,
        };
        let mut ctx = CatalogContext::default();
        let m = image_metadata(&image, None, &mut ctx);
        assert!(ctx.warnings.is_empty());
        assert_eq!(
            (m.architecture.as_str(), m.variant.as_deref()),
            ("arm64", Some("v8"))
        );
        assert_eq!(m.config.user.as_deref(), Some("app"));
        assert_eq!(m.config.exposed_ports, vec!["53/udp", "80/tcp"]);
        assert_eq!(m.config.volumes, vec!["/data"]);
        assert_eq!(m.config.healthcheck.as_ref().unwrap()[0], "CMD");
        assert_eq!(m.config.stop_signal.as_deref(), Some("SIGTERM"));
        assert_eq!(m.config.labels["org.opencontainers.image.title"], "x");
        assert_eq!((m.layer_count, m.image_size), (1, 1234));
        assert_eq!(
            m.layers[0].created_by.as_deref(),
            Some("/bin/sh -c #(nop) ADD file:abc in / ")
        );
        assert!(m.layers[0].diff_id.is_some() && m.layers[0].digest.is_some());
        assert_eq!(
            m.dockerfile.unwrap().text,
            "FROM scratch\nADD file:abc in /\nCMD [\"run\"]\n"
        );
        let mut ctx = CatalogContext::default();
        let bad = AcquiredImage {
            config_json: Some("{not json".into()),
            ..image
        };
        let m = image_metadata(&bad, None, &mut ctx);
        assert_eq!(ctx.warnings.len(), 1);
        assert_eq!(m.os, "linux");
    }
}
