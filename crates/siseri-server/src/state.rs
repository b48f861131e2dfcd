//! What every handler shares.

use std::sync::Arc;

use siseri_domain::Clock;
use siseri_storage::Store;

/// The application's state: the store and the clock, built once at start-up.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Today's date.
    pub clock: Clock,
    /// Login attempts per address.
    pub throttle: Arc<crate::login::Throttle>,
    /// Identity federations (OpenID Connect) and the logins in progress.
    pub federations: Arc<crate::federation::Federations>,
    /// Imports in progress.
    pub running: Arc<crate::transmissions::Running>,
}

impl AppState {
    /// Adds the identity federations.
    pub fn with_federations(mut self, federations: crate::federation::Federations) -> Self {
        self.federations = Arc::new(federations);
        self
    }

    /// Builds the state.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        AppState {
            store,
            clock,
            throttle: Arc::default(),
            federations: Arc::default(),
            running: Arc::default(),
        }
    }
}
