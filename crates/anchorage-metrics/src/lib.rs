//! Prometheus metrics of the engine service. One registry per process, reached through
//! [`metrics()`]; [`encode`] renders it as OpenMetrics text (what `GET /metrics` serves, with
//! [`CONTENT_TYPE`]). Counters and histograms are recorded where things happen (workers, the
//! HTTP middleware); gauges of shared state (queue depth, feed age, processes up) are set by the
//! `/metrics` handler just before encoding, so every scrape reads the current database.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client.

use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels `kind`, `state`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindState {
    kind: String,
    state: String,
}

/// Labels `kind`, `outcome`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindOutcome {
    kind: String,
    outcome: String,
}

/// Label `outcome`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

/// Label `reason`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

/// Label `source`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    source: String,
}

/// Label `role`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Role {
    role: String,
}

/// Labels `version`, `role`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Build {
    version: String,
    role: String,
}

/// Labels `method`, `route`, `status`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn job_histogram() -> Histogram {
    // 0.25 s .. ~2.3 h: an analysis takes seconds to an hour.
    Histogram::new([
        0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 8192.0,
    ])
}

fn http_histogram() -> Histogram {
    // 1 ms .. 10 s.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    build_info: Family<Build, Gauge>,
    queue_depth: Family<KindState, Gauge>,
    job_duration: HistogramFamily<KindOutcome>,
    analyses: Family<Outcome, Counter>,
    failures: Family<Reason, Counter>,
    released: Counter,
    feed_age: Family<Source, Gauge<f64, AtomicU64>>,
    feed_syncs: Family<Outcome, Counter>,
    http: HistogramFamily<HttpLabels>,
    notifications_pending: Gauge,
    notifications_dead: Gauge,
    services_up: Family<Role, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            build_info: Family::default(),
            queue_depth: Family::default(),
            job_duration: Family::new_with_constructor(job_histogram as fn() -> Histogram),
            analyses: Family::default(),
            failures: Family::default(),
            released: Counter::default(),
            feed_age: Family::default(),
            feed_syncs: Family::default(),
            http: Family::new_with_constructor(http_histogram as fn() -> Histogram),
            notifications_pending: Gauge::default(),
            notifications_dead: Gauge::default(),
            services_up: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "anchorage_build_info",
            "Version and role of this process (always 1)",
            m.build_info.clone(),
        );
        registry.register(
            "anchorage_queue_depth",
            "Open jobs in the database queue by kind and state (cluster-wide)",
            m.queue_depth.clone(),
        );
        registry.register(
            "anchorage_job_duration_seconds",
            "Time from claim to outcome of the jobs this process ran",
            m.job_duration.clone(),
        );
        registry.register(
            "anchorage_analyses",
            "Analyses this process finished, by outcome",
            m.analyses.clone(),
        );
        registry.register(
            "anchorage_analysis_failures",
            "Failed analyses of this process by reason (error kind)",
            m.failures.clone(),
        );
        registry.register(
            "anchorage_jobs_released",
            "Jobs given back to the queue unfinished at shutdown",
            m.released.clone(),
        );
        registry.register(
            "anchorage_feed_age_seconds",
            "Seconds since the last successful sync of each vulnerability feed source",
            m.feed_age.clone(),
        );
        registry.register(
            "anchorage_feed_syncs",
            "Feed source syncs of this process, by outcome",
            m.feed_syncs.clone(),
        );
        registry.register(
            "anchorage_http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            m.http.clone(),
        );
        registry.register(
            "anchorage_notifications_pending",
            "Notifications waiting for delivery (webhook backlog)",
            m.notifications_pending.clone(),
        );
        registry.register(
            "anchorage_notifications_dead",
            "Notifications given up after their last delivery attempt (dead letters)",
            m.notifications_dead.clone(),
        );
        registry.register(
            "anchorage_services_up",
            "Processes with a fresh heartbeat, by role (cluster-wide)",
            m.services_up.clone(),
        );
        // Counters start at zero, so rates are defined from the first scrape.
        for outcome in ["analyzed", "failed"] {
            drop(m.analyses.get_or_create(&Outcome {
                outcome: outcome.to_string(),
            }));
        }
        Metrics { registry, ..m }
    }
}

/// The process' metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// The registry as OpenMetrics text.
pub fn encode() -> String {
    let mut out = String::with_capacity(16 << 10);
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &metrics().registry);
    out
}

/// Records this process' version and role (`anchorage_build_info`).
pub fn set_build_info(version: &str, role: &str) {
    metrics()
        .build_info
        .get_or_create(&Build {
            version: version.to_string(),
            role: role.to_string(),
        })
        .set(1);
}

/// Replaces the queue depth gauges with `depths`: (kind, queued, running) per kind; kinds not
/// listed drop out.
pub fn set_queue_depth(depths: &[(String, i64, i64)]) {
    let family = &metrics().queue_depth;
    family.clear();
    for (kind, queued, running) in depths {
        for (state, n) in [("queued", queued), ("running", running)] {
            family
                .get_or_create(&KindState {
                    kind: kind.clone(),
                    state: state.to_string(),
                })
                .set(*n);
        }
    }
}

/// Records one finished job: its duration (seconds) under `kind` and `outcome` (`done`,
/// `failed`, `released`, `lost`).
pub fn observe_job(kind: &str, outcome: &str, seconds: f64) {
    metrics()
        .job_duration
        .get_or_create(&KindOutcome {
            kind: kind.to_string(),
            outcome: outcome.to_string(),
        })
        .observe(seconds);
}

/// Counts one finished analysis: `analyzed`, or `failed` with its `reason` (an error kind such
/// as `upstream`, `timeout`, `invalid_input`).
pub fn analysis_finished(failure_reason: Option<&str>) {
    let m = metrics();
    let outcome = if failure_reason.is_some() {
        "failed"
    } else {
        "analyzed"
    };
    m.analyses
        .get_or_create(&Outcome {
            outcome: outcome.to_string(),
        })
        .inc();
    if let Some(reason) = failure_reason {
        m.failures
            .get_or_create(&Reason {
                reason: reason.to_string(),
            })
            .inc();
    }
}

/// Counts a job given back to the queue at shutdown.
pub fn job_released() {
    metrics().released.inc();
}

/// Replaces the feed age gauges: (source, seconds since its last successful sync).
pub fn set_feed_ages(ages: &[(String, f64)]) {
    let family = &metrics().feed_age;
    family.clear();
    for (source, age) in ages {
        family
            .get_or_create(&Source {
                source: source.clone(),
            })
            .set(*age);
    }
}

/// Counts one feed source sync: `success` or `failure`.
pub fn feed_synced(ok: bool) {
    metrics()
        .feed_syncs
        .get_or_create(&Outcome {
            outcome: if ok { "success" } else { "failure" }.to_string(),
        })
        .inc();
}

/// Records one HTTP request: `route` is the route template (`/images/{digest}`), never the
/// raw path, so the label set stays small.
pub fn observe_http(method: &str, route: &str, status: u16, seconds: f64) {
    metrics()
        .http
        .get_or_create(&HttpLabels {
            method: method.to_string(),
            route: route.to_string(),
            status: status.to_string(),
        })
        .observe(seconds);
}

/// Sets `anchorage_notifications_pending`: notifications waiting for delivery (the webhook
/// backlog; cluster-wide when read from the database).
pub fn set_notifications_pending(n: i64) {
    metrics().notifications_pending.set(n);
}

/// Sets `anchorage_notifications_dead`: notifications given up after their last attempt.
pub fn set_notifications_dead(n: i64) {
    metrics().notifications_dead.set(n);
}

/// Replaces the processes-up gauges: (role, processes with a fresh heartbeat).
pub fn set_services_up(counts: &[(String, i64)]) {
    let family = &metrics().services_up;
    family.clear();
    for (role, n) in counts {
        family.get_or_create(&Role { role: role.clone() }).set(*n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_show_in_the_text_with_their_labels() {
        observe_http("GET", "/images/{digest}", 200, 0.003);
        analysis_finished(Some("upstream"));
        set_queue_depth(&[("analyze".into(), 2, 1)]);
        set_queue_depth(&[("analyze-force".into(), 1, 0)]);
        set_notifications_pending(7);
        let text = encode();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.contains(
                "anchorage_http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/images/{digest}\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("anchorage_analysis_failures_total{reason=\"upstream\"} 1"),
            "{text}"
        );
        assert!(text.contains("anchorage_notifications_pending 7"), "{text}");
        // A kind without open jobs drops out of the queue gauges.
        assert!(!text.contains("kind=\"analyze\","), "{text}");
        assert!(
            text.contains("anchorage_queue_depth{kind=\"analyze-force\",state=\"queued\"} 1"),
            "{text}"
        );
    }
}
