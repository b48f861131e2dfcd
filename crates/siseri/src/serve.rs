//! Serving until SIGTERM or Ctrl-C, then finishing the requests in flight.

use std::sync::Arc;

use siseri_domain::Clock;
use siseri_server::AppState;
use siseri_server::client::TrustedProxies;
use siseri_server::federation::Federations;
use siseri_server::oidc::{OidcClient, OidcConfig};
use siseri_storage::Store;

use crate::CliError;

/// Reads the federations' configuration and discovers each provider; any failure
/// stops the start-up with a clear message (a half-configured login is worse).
async fn federations(path: Option<&std::path::Path>) -> Result<Federations, CliError> {
    let Some(path) = path else {
        return Ok(Federations::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Refused(format!(
            "--oidc-config {} : lecture impossible : {e}",
            path.display()
        ))
    })?;
    let configs: Vec<OidcConfig> = serde_json::from_str(&text).map_err(|e| {
        CliError::Refused(format!(
            "--oidc-config {} : JSON invalide : {e}",
            path.display()
        ))
    })?;
    let mut clients = Vec::new();
    for c in configs {
        let name = c.name.clone();
        let client = OidcClient::discover(c)
            .await
            .map_err(|e| CliError::Refused(format!("fédération {name} : {e}")))?;
        tracing::info!(federation = %name, "identity federation ready");
        clients.push(client);
    }
    Ok(Federations::new(clients))
}

/// Binds `listen`, prints the URL (with `banner` after it), and serves.
pub async fn serve(
    listen: &str,
    store: Arc<dyn Store>,
    clock: Clock,
    oidc_config: Option<&std::path::Path>,
    web: &crate::cli::WebArgs,
    banner: Option<String>,
) -> Result<(), CliError> {
    let federations = federations(oidc_config).await?;
    let notify = siseri_notify::NotifyConfig::from_env()
        .map_err(|e| CliError::Refused(format!("notifications : {e}")))?;
    let smtp = notify.smtp.clone();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::Refused(format!("écoute impossible sur {listen} : {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Internal(e.to_string()))?;
    // The URL line is read by people and by the tests (which listen on port 0).
    println!("SISERI écoute sur http://{addr}/");
    if let Some(b) = banner {
        println!("{b}");
    }
    tracing::info!(%addr, "listening");
    let public_url = web
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    start_notifications(store.clone(), notify, public_url.clone());
    let state = AppState::new(store, clock)
        .with_federations(federations)
        .with_trusted_proxies(TrustedProxies::new(web.trusted_proxies.clone()))
        .with_mail(smtp, &public_url);
    siseri_server::serve(listener, state, shutdown_signal())
        .await
        .map_err(|e| CliError::Internal(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
}

/// Queues the notices of alerts every minute (catching any alert whose notices were not
/// queued yet) and, when SMTP is configured, delivers the outbox.
fn start_notifications(
    store: Arc<dyn Store>,
    config: siseri_notify::NotifyConfig,
    public_url: String,
) {
    let ministry = config.ministry_email.clone();
    let sweeper = store.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match siseri_server::notifications::sweep(
                sweeper.as_ref(),
                ministry.as_deref(),
                &public_url,
            )
            .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(queued = n, "notifications d'alertes mises en file"),
                Err(e) => tracing::error!(error = %e, "file des notifications"),
            }
        }
    });
    match config.smtp {
        Some(smtp) => {
            siseri_notify::spawn_delivery(store, smtp, std::time::Duration::from_secs(30));
        }
        None => tracing::warn!(
            "SISERI_SMTP_HOST absent : notifications gardées en file et boîte de réception seulement"
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
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
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}
