//! Delivery of the outbox by SMTP: at least once, with retries and exponential backoff.
//!
//! Each round claims the due messages (moving their next attempt a lease ahead, so that a
//! second loop does not take them), sends each with its stored Message-ID, and marks it sent
//! once the server has accepted it, or failed with its next attempt `1 min × 2^attempts`
//! later (at most 6 h). A crash between the server's acceptance and the marking sends the
//! message again at the end of the lease: the same Message-ID lets the receiver recognise it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use siseri_storage::{Outbox, OutboxRow, Store, StoreError};

use crate::config::{SmtpConfig, TlsMode};

/// Messages claimed at a time.
pub const BATCH: i64 = 20;

/// How long a claimed message is kept from other loops (longer than a batch takes).
pub const LEASE: Duration = Duration::from_secs(30 * 60);

/// The first retry's delay.
pub const FIRST_RETRY: Duration = Duration::from_secs(60);

/// The longest delay between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(6 * 3600);

/// What a delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Messages the server accepted.
    pub sent: usize,
    /// Messages that failed and will be tried again.
    pub failed: usize,
}

/// Why a delivery round could not run.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The SMTP configuration cannot be used (TLS parameters, certificate file).
    #[error("configuration SMTP : {0}")]
    Config(String),
}

/// The delay before the next attempt of a message that has failed `attempts` times before
/// this failure: 1 min, 2 min, 4 min… at most 6 h.
pub fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_RETRY)
}

fn to_chrono(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no automatic replies.
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

/// The SMTP transport `config` describes.
pub fn transport(config: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let tls_parameters = || -> Result<TlsParameters, DeliveryError> {
        let mut builder = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| DeliveryError::Config(format!("{} : {e}", path.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| DeliveryError::Config(format!("{} : {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        builder
            .build()
            .map_err(|e| DeliveryError::Config(e.to_string()))
    };
    let tls = match config.tls {
        TlsMode::None => Tls::None,
        TlsMode::StartTls => Tls::Required(tls_parameters()?),
        TlsMode::Tls => Tls::Wrapper(tls_parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
        .port(config.port)
        .tls(tls)
        .timeout(Some(config.timeout));
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// The e-mail of an outbox row: its own Message-ID, dated when it was queued.
pub fn message(row: &OutboxRow, from: &str) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("expéditeur : {e}"))?;
    let to: Mailbox = row
        .email
        .parse()
        .map_err(|e| format!("adresse « {} » : {e}", row.email))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .date(row.created_at.into())
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(AUTO_SUBMITTED, "auto-generated".into()))
        .body(row.body.clone())
        .map_err(|e| format!("message : {e}"))
}

/// Sends every message due at `now`, and records each outcome.
pub async fn deliver_due(
    outbox: &dyn Outbox,
    config: &SmtpConfig,
    now: DateTime<Utc>,
) -> Result<DeliveryStats, DeliveryError> {
    let transport = transport(config)?;
    let mut stats = DeliveryStats::default();
    loop {
        let claimed = outbox
            .claim_notifications(now, now + to_chrono(LEASE), BATCH)
            .await?;
        let full = i64::try_from(claimed.len()).unwrap_or(i64::MAX) >= BATCH;
        // Once the server cannot be reached, the rest of the batch fails without trying.
        let mut unreachable: Option<String> = None;
        for row in &claimed {
            let outcome = match &unreachable {
                Some(e) => Err(e.clone()),
                None => match message(row, &config.from) {
                    Err(e) => Err(e),
                    // lettre bounds the connection only: bound the whole exchange.
                    Ok(email) => {
                        match tokio::time::timeout(config.timeout, transport.send(email)).await {
                            Ok(Ok(_)) => Ok(()),
                            Ok(Err(e)) => {
                                let text = format!("SMTP : {e}");
                                if !e.is_permanent() && !e.is_transient() {
                                    unreachable = Some(text.clone());
                                }
                                Err(text)
                            }
                            Err(_) => {
                                let text = format!(
                                    "SMTP : pas de réponse du serveur en {} s",
                                    config.timeout.as_secs()
                                );
                                unreachable = Some(text.clone());
                                Err(text)
                            }
                        }
                    }
                },
            };
            match outcome {
                Ok(()) => {
                    outbox.notification_sent(row.id, now).await?;
                    stats.sent += 1;
                    tracing::info!(message_id = %row.message_id, kind = %row.recipient_kind, "notification envoyée");
                }
                Err(error) => {
                    let next = now + to_chrono(backoff(row.attempts));
                    outbox.notification_failed(row.id, &error, next).await?;
                    stats.failed += 1;
                    tracing::warn!(
                        message_id = %row.message_id,
                        attempts = row.attempts + 1,
                        next_attempt = %next,
                        %error,
                        "échec d'envoi d'une notification"
                    );
                }
            }
        }
        if !full || unreachable.is_some() {
            return Ok(stats);
        }
    }
}

/// Runs [`deliver_due`] every `interval` until the task is aborted.
pub fn spawn_delivery(
    store: Arc<dyn Store>,
    config: SmtpConfig,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match deliver_due(store.outbox(), &config, Utc::now()).await {
                Ok(stats) if stats != DeliveryStats::default() => {
                    tracing::info!(
                        sent = stats.sent,
                        failed = stats.failed,
                        "envoi des notifications"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "envoi des notifications impossible"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_six_hours() {
        assert_eq!(backoff(0), Duration::from_secs(60));
        assert_eq!(backoff(1), Duration::from_secs(120));
        assert_eq!(backoff(4), Duration::from_secs(16 * 60));
        assert_eq!(backoff(8), Duration::from_secs(256 * 60));
        assert_eq!(backoff(9), MAX_RETRY);
        assert_eq!(backoff(1000), MAX_RETRY);
        assert_eq!(backoff(-3), FIRST_RETRY);
    }
}
