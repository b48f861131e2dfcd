//! Configuration of notifications, from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SISERI_SMTP_HOST` | SMTP server; unset: e-mails stay queued, nothing is sent | — |
//! | `SISERI_SMTP_PORT` | its port | 587 (STARTTLS), 465 (TLS), 25 (none) |
//! | `SISERI_SMTP_STARTTLS` | `true`: STARTTLS required; `false`: no encryption; `tls`: TLS from the start (SMTPS) | `true` |
//! | `SISERI_SMTP_USER`, `SISERI_SMTP_PASSWORD` | credentials (both or neither) | none |
//! | `SISERI_SMTP_FROM` | sender, `adresse` or `Nom <adresse>` (required with a host) | — |
//! | `SISERI_SMTP_CA_FILE` | a PEM certificate to trust besides the public roots | none |
//! | `SISERI_MINISTRY_EMAIL` | the labour ministry's address (rules.md §5) | none: not notified |

use std::path::PathBuf;
use std::time::Duration;

use lettre::Address;

use crate::Recipient;

/// How the connection to the SMTP server is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// None (a relay on the same host or network only).
    None,
    /// STARTTLS, required: nothing is sent if the server cannot upgrade the connection.
    StartTls,
    /// TLS from the start (SMTPS, port 465).
    Tls,
}

impl TlsMode {
    /// The usual port of the mode.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// Where and how e-mails are sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Server host name (also the name its certificate must bear).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Encryption.
    pub tls: TlsMode,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Password, with the login.
    pub password: Option<String>,
    /// The sender (`From`).
    pub from: String,
    /// A PEM certificate to trust besides the public roots (an internal authority).
    pub ca_file: Option<PathBuf>,
    /// Longest wait for one message: connection, exchange and acceptance.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable's value is not understood.
    #[error("{var} : valeur « {value} » invalide ({expected})")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A variable is required by another.
    #[error("{var} est requis avec {with}")]
    Missing {
        /// The missing variable.
        var: &'static str,
        /// The one that requires it.
        with: &'static str,
    },
}

fn invalid(var: &'static str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_string(),
        expected,
    }
}

/// A variable's value, `None` when unset or blank.
fn var(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Checks an e-mail address.
fn address(var: &'static str, value: &str) -> Result<String, ConfigError> {
    value
        .parse::<Address>()
        .map(|_| value.to_string())
        .map_err(|_| invalid(var, value, "adresse électronique"))
}

impl SmtpConfig {
    /// A configuration for `host:port` without encryption or credentials (tests, a local
    /// relay).
    pub fn plain(host: impl Into<String>, port: u16, from: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port,
            tls: TlsMode::None,
            username: None,
            password: None,
            from: from.into(),
            ca_file: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// From the process environment; `None` when `SISERI_SMTP_HOST` is unset.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_vars(&|name| std::env::var(name).ok())
    }

    /// From variables looked up by `get` (the environment, or a map in tests).
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let Some(host) = var(get, "SISERI_SMTP_HOST") else {
            return Ok(None);
        };
        let tls = match var(get, "SISERI_SMTP_STARTTLS") {
            None => TlsMode::StartTls,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "oui" | "yes" | "on" | "starttls" => TlsMode::StartTls,
                "false" | "0" | "non" | "no" | "off" | "none" => TlsMode::None,
                "tls" | "smtps" => TlsMode::Tls,
                _ => return Err(invalid("SISERI_SMTP_STARTTLS", &v, "true, false ou tls")),
            },
        };
        let port = match var(get, "SISERI_SMTP_PORT") {
            None => tls.default_port(),
            Some(v) => match v.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(invalid("SISERI_SMTP_PORT", &v, "port de 1 à 65535")),
            },
        };
        let username = var(get, "SISERI_SMTP_USER");
        let password = get("SISERI_SMTP_PASSWORD").filter(|p| !p.is_empty());
        match (&username, &password) {
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    var: "SISERI_SMTP_PASSWORD",
                    with: "SISERI_SMTP_USER",
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing {
                    var: "SISERI_SMTP_USER",
                    with: "SISERI_SMTP_PASSWORD",
                });
            }
            _ => {}
        }
        let from = var(get, "SISERI_SMTP_FROM").ok_or(ConfigError::Missing {
            var: "SISERI_SMTP_FROM",
            with: "SISERI_SMTP_HOST",
        })?;
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "SISERI_SMTP_FROM",
                &from,
                "adresse électronique, avec ou sans nom",
            ));
        }
        Ok(Some(SmtpConfig {
            host,
            port,
            tls,
            username,
            password,
            from,
            ca_file: var(get, "SISERI_SMTP_CA_FILE").map(PathBuf::from),
            timeout: Duration::from_secs(30),
        }))
    }
}

/// Everything notifications need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyConfig {
    /// The SMTP server; `None`: e-mails are queued but not sent.
    pub smtp: Option<SmtpConfig>,
    /// The labour ministry's address; `None`: the ministry is not notified.
    pub ministry_email: Option<String>,
}

impl NotifyConfig {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&|name| std::env::var(name).ok())
    }

    /// From variables looked up by `get`.
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let ministry_email = var(get, "SISERI_MINISTRY_EMAIL")
            .map(|v| address("SISERI_MINISTRY_EMAIL", &v))
            .transpose()?;
        Ok(NotifyConfig {
            smtp: SmtpConfig::from_vars(get)?,
            ministry_email,
        })
    }

    /// The ministry as a recipient, when its address is configured.
    pub fn ministry(&self) -> Option<Recipient> {
        self.ministry_email.as_deref().map(Recipient::ministry)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<NotifyConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        NotifyConfig::from_vars(&|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_means_no_delivery_and_no_ministry() {
        assert_eq!(config(&[]).unwrap(), NotifyConfig::default());
    }

    #[test]
    fn starttls_is_the_default_and_picks_its_port() {
        let c = config(&[
            ("SISERI_SMTP_HOST", "smtp.example.org"),
            ("SISERI_SMTP_FROM", "siseri@example.org"),
            ("SISERI_MINISTRY_EMAIL", "dgt@example.org"),
        ])
        .unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!((smtp.tls, smtp.port), (TlsMode::StartTls, 587));
        assert_eq!(c.ministry_email.as_deref(), Some("dgt@example.org"));
    }

    #[test]
    fn modes_ports_and_credentials() {
        let c = config(&[
            ("SISERI_SMTP_HOST", "smtp.example.org"),
            ("SISERI_SMTP_FROM", "siseri@example.org"),
            ("SISERI_SMTP_STARTTLS", "tls"),
            ("SISERI_SMTP_USER", "u"),
            ("SISERI_SMTP_PASSWORD", "secret"),
        ])
        .unwrap()
        .smtp
        .unwrap();
        assert_eq!((c.tls, c.port), (TlsMode::Tls, 465));
        assert!(
            !format!("{c:?}").contains("secret"),
            "the password is not logged"
        );
        let c = config(&[
            ("SISERI_SMTP_HOST", "127.0.0.1"),
            ("SISERI_SMTP_FROM", "siseri@example.org"),
            ("SISERI_SMTP_STARTTLS", "false"),
            ("SISERI_SMTP_PORT", "2525"),
        ])
        .unwrap()
        .smtp
        .unwrap();
        assert_eq!((c.tls, c.port), (TlsMode::None, 2525));
    }

    #[test]
    fn bad_values_are_refused() {
        let base = [
            ("SISERI_SMTP_HOST", "smtp.example.org"),
            ("SISERI_SMTP_FROM", "siseri@example.org"),
        ];
        for extra in [
            ("SISERI_SMTP_PORT", "0"),
            ("SISERI_SMTP_PORT", "smtp"),
            ("SISERI_SMTP_STARTTLS", "peut-être"),
            ("SISERI_SMTP_USER", "u"),
            ("SISERI_MINISTRY_EMAIL", "pas une adresse"),
        ] {
            let mut vars = base.to_vec();
            vars.push(extra);
            assert!(config(&vars).is_err(), "{extra:?}");
        }
        assert!(config(&[("SISERI_SMTP_HOST", "smtp.example.org")]).is_err());
        assert!(
            config(&[
                ("SISERI_SMTP_HOST", "smtp.example.org"),
                ("SISERI_SMTP_FROM", "nope")
            ])
            .is_err()
        );
    }
}
