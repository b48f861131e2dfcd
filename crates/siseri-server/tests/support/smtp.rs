//! The test SMTP server (`tests/smtp-sink/sink.py`, aiosmtpd) as a child process on a free
//! port of the loopback: it writes every message it accepts as a JSON file. Python 3 with
//! aiosmtpd is required (scripts/test.sh installs it); `SISERI_TEST_PYTHON` names another
//! interpreter. Same sink as `crates/siseri-notify/tests/smtp.rs`.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// A running sink, stopped (and its directory removed) when dropped.
pub struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Sink {
    pub fn start() -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp-sink/sink.py");
        let python = std::env::var("SISERI_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .arg("--port")
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} for the SMTP sink: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Some(port) = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the SMTP sink did not start (Python 3 with aiosmtpd 1.4.6 is required; \
                 scripts/test.sh installs it)"
            );
        };
        Sink { child, dir, port }
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
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
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

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a message, with plain line ends.
pub fn body(m: &Value) -> String {
    m["body"].as_str().unwrap_or("").replace("\r\n", "\n")
}

/// A header of a message.
pub fn header<'a>(m: &'a Value, name: &str) -> &'a str {
    m["headers"][name].as_str().unwrap_or("")
}

/// The recipients of a message.
pub fn rcpt(m: &Value) -> Vec<String> {
    m["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}
