//! The test SMTP server, `tests/smtp-sink/sink.py` (aiosmtpd), as a child process on a port
//! of the loopback: it writes every message it accepts as a JSON file before answering 250.
//! Python 3 with aiosmtpd is required (scripts/test.sh installs it); `SISERI_TEST_PYTHON`
//! names another interpreter. Shared by the notification tests and, through `#[path]`, the
//! server's (`crates/siseri-server/tests/support/smtp.rs`).

#![allow(dead_code)] // each test crate uses its own part
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn python() -> String {
    std::env::var("SISERI_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn sink_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp-sink/sink.py")
}

/// A running `sink.py`, stopped when dropped.
pub struct Sink {
    child: Option<Child>,
    dir: PathBuf,
    pub port: u16,
}

impl Sink {
    /// Starts the sink on `port` (0: a free one), writing messages to `dir`.
    pub fn start(dir: &Path, port: u16, extra: &[&str]) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        let log_path = dir.with_extension("log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(python())
            .arg(sink_script())
            .arg("--dir")
            .arg(dir)
            .arg("--port")
            .arg(port.to_string())
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} for the SMTP sink: {e} (Python 3 with aiosmtpd is required; \
                     scripts/test.sh installs it)",
                    python()
                )
            });
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
                 scripts/test.sh installs it: python3 -m pip install aiosmtpd==1.4.6):\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        };
        Sink {
            child: Some(child),
            dir: dir.to_path_buf(),
            port,
        }
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
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

    /// Stops the server: its port refuses connections afterwards.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn header<'a>(m: &'a Value, name: &str) -> &'a str {
    m["headers"][name].as_str().unwrap_or("")
}

pub fn body(m: &Value) -> String {
    m["body"].as_str().unwrap_or("").replace("\r\n", "\n")
}

pub fn rcpt(m: &Value) -> Vec<String> {
    m["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}
