//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use siseri_domain::Clock;
use siseri_notify::SmtpConfig;
use siseri_storage::Store;

use crate::client::TrustedProxies;

/// The application's state: the store and the clock, built once at start-up.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Today's date.
    pub clock: Clock,
    /// The instant of the login throttle and the forgotten-password links.
    pub instants: Instants,
    /// Login failures per client address.
    pub throttle: Arc<crate::login::Throttle>,
    /// The reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// The registry's public address (no trailing `/`), for links in e-mails: never taken
    /// from a request's `Host`, which anyone can write.
    pub public_url: String,
    /// Where e-mails about an account go out (none: not sent, logged).
    pub smtp: Option<Arc<SmtpConfig>>,
    /// Identity federations (OpenID Connect) and the logins in progress.
    pub federations: Arc<crate::federation::Federations>,
    /// Imports in progress.
    pub running: Arc<crate::transmissions::Running>,
}

/// The current instant, which tests can move forward (the login throttle's delays last up
/// to 15 minutes: no test sleeps that long).
#[derive(Debug, Clone, Default)]
pub struct Instants {
    ahead_seconds: Arc<AtomicI64>,
}

impl Instants {
    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.ahead_seconds.load(Ordering::Relaxed))
    }

    /// Moves every later `now` forward by `by` (a testing aid).
    pub fn advance(&self, by: chrono::Duration) {
        self.ahead_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

impl AppState {
    /// Adds the identity federations.
    pub fn with_federations(mut self, federations: crate::federation::Federations) -> Self {
        self.federations = Arc::new(federations);
        self
    }

    /// Believes the forwarding headers of these proxies.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// Sends e-mails about accounts through this server, with links to `public_url`.
    pub fn with_mail(mut self, smtp: Option<SmtpConfig>, public_url: &str) -> Self {
        self.smtp = smtp.map(Arc::new);
        self.public_url = public_url.trim_end_matches('/').to_string();
        self
    }

    /// Builds the state.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        AppState {
            store,
            clock,
            instants: Instants::default(),
            throttle: Arc::default(),
            trusted_proxies: Arc::default(),
            public_url: "http://127.0.0.1:8080".into(),
            smtp: None,
            federations: Arc::default(),
            running: Arc::default(),
        }
    }
}
