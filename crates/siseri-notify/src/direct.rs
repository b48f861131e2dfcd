//! E-mails about an account itself — a forgotten-password link, a warning that its password
//! is being guessed — sent at once rather than through the outbox: the link must not sit in
//! clear in the database (only its hash is kept there), and it is worth nothing after 30
//! minutes, so a failure is logged and the person simply asks again.

use lettre::AsyncTransport;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};

use crate::config::SmtpConfig;
use crate::deliver::transport;

const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

/// Sends one plain-text message to `to` now; the error says why it was not accepted.
pub async fn send_now(
    config: &SmtpConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let from: Mailbox = config
        .from
        .parse()
        .map_err(|e| format!("expéditeur : {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("adresse « {to} » : {e}"))?;
    let email = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .date_now()
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(AUTO_SUBMITTED, "auto-generated".into()))
        .body(body.to_string())
        .map_err(|e| format!("message : {e}"))?;
    let transport = transport(config).map_err(|e| e.to_string())?;
    // lettre bounds the connection only: bound the whole exchange.
    match tokio::time::timeout(config.timeout, transport.send(email)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("SMTP : {e}")),
        Err(_) => Err(format!(
            "SMTP : pas de réponse du serveur en {} s",
            config.timeout.as_secs()
        )),
    }
}
