//! The operations side of `anchorage serve`: the process' host id, its row in the `services`
//! table with a heartbeat, the shutdown signal fanned out to every part of the process, and
//! the listener of each role.

use std::time::Duration;

use anchorage_settings::Role;
use anchorage_store::{Database, ServiceRecord};
use tokio::sync::watch;

/// Rows of processes silent for longer than this are deleted by the heartbeat of any live
/// process (a process killed long ago; `GET system` shows recent ones as down).
const PRUNE_AFTER_SECS: i64 = 3600;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// This machine's name: `$HOSTNAME`, else the kernel's, else `localhost`.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A host id unique per process: `anchorage-HOST-PID-RANDOM` (a restarted container keeps its
/// host name and often its pid; the random suffix tells the two lives apart).
pub(crate) fn host_id() -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "anchorage-{}-{}-{}",
        hostname(),
        std::process::id(),
        suffix.get(..8).unwrap_or("0")
    )
}

/// The process' row in the `services` table.
pub(crate) struct Registration {
    db: Database,
    record: ServiceRecord,
}

impl Registration {
    /// Registers this process as up.
    pub(crate) async fn register(
        db: &Database,
        host_id: &str,
        role: Role,
        base_url: &str,
        heartbeat: Duration,
    ) -> anyhow::Result<Registration> {
        let t = now();
        let record = ServiceRecord {
            host_id: host_id.to_string(),
            role: role.as_str().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            base_url: base_url.to_string(),
            status: "up".into(),
            heartbeat_seconds: i64::try_from(heartbeat.as_secs()).unwrap_or(5).max(1),
            started_at: t,
            last_heartbeat: t,
        };
        db.register_service(&record).await?;
        Ok(Registration {
            db: db.clone(),
            record,
        })
    }

    /// Beats every `interval` until `stop` turns true; registers again when the row vanished
    /// and prunes rows of long-gone processes. A failed beat (database down) is retried at the
    /// next tick: the process keeps running and shows as down meanwhile.
    pub(crate) async fn heartbeat(&self, interval: Duration, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let t = now();
            match self.db.service_heartbeat(&self.record.host_id, t).await {
                Ok(true) => {}
                Ok(false) => {
                    let record = ServiceRecord {
                        last_heartbeat: t,
                        ..self.record.clone()
                    };
                    if let Err(e) = self.db.register_service(&record).await {
                        tracing::warn!(error = %e, "cannot register this process again");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
            if let Err(e) = self.db.prune_services(t - PRUNE_AFTER_SECS).await {
                tracing::debug!(error = %e, "cannot prune old process rows");
            }
        }
    }

    /// Marks this process down (graceful stop).
    pub(crate) async fn mark_down(&self) {
        if let Err(e) = self.db.mark_service_down(&self.record.host_id, now()).await {
            tracing::warn!(error = %e, "cannot mark this process down");
        }
    }
}

/// Waits for SIGINT or SIGTERM.
async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// A shutdown flag that turns true at SIGINT/SIGTERM; every part of the process watches it.
pub(crate) fn shutdown_on_signal() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    let (tx, rx) = watch::channel(false);
    let sender = tx.clone();
    tokio::spawn(async move {
        signal().await;
        tracing::info!("shutdown requested");
        let _ = sender.send(true);
    });
    (tx, rx)
}

/// Resolves when `stop` turns true (or its sender is gone).
pub(crate) async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// The HTTP service of a role: the whole API, or probes and metrics only (worker).
pub(crate) fn service(
    role: Role,
    state: anchorage_api::AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, std::net::SocketAddr>
{
    if role.serves_api() {
        anchorage_api::into_service(state)
    } else {
        anchorage_api::into_probe_service(state)
    }
}
