//! The test SMTP server of the notification tests (`crates/siseri-notify/tests/support/sink.rs`,
//! included as is) on a free port, writing to a temporary directory removed with it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;

#[path = "../../../siseri-notify/tests/support/sink.rs"]
mod sink;

#[allow(unused_imports)] // used by the tests that read mail
pub use sink::{body, header, rcpt};

/// A running sink, stopped (and its directory removed) when dropped.
pub struct Sink {
    sink: sink::Sink,
    // Dropped after the sink (fields drop in order): the server stops before its directory goes.
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Sink {
    pub fn start() -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let sink = sink::Sink::start(&dir.path().join("mails"), 0, &[]);
        let port = sink.port;
        Sink {
            sink,
            _dir: dir,
            port,
        }
    }

    /// The configuration that sends to this sink.
    pub fn config(&self) -> siseri_notify::SmtpConfig {
        siseri_notify::SmtpConfig::plain(
            "127.0.0.1",
            self.port,
            "SISERI <ne-pas-repondre@siseri.example>",
        )
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        self.sink.messages()
    }

    /// Waits (up to 20 s) until `n` messages have arrived, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} messages, got {:?}", self.messages());
    }
}
