//! What the tests that run the binary as a server share: the `siseri` command with a clean
//! environment, `siseri serve` on a free port, a bare HTTP GET, and the tail of a log.

#![allow(dead_code)] // each test file uses its own part of the support

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary, with nothing from the caller's shell leaking in: the demo and the server use
/// the real clock and no database, password, federation or SMTP of the environment.
pub fn siseri() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siseri"));
    c.env_remove("SISERI_DATABASE_URL")
        .env_remove("SISERI_TODAY")
        .env_remove("SISERI_PASSWORD")
        .env_remove("SISERI_OIDC_CONFIG")
        .env_remove("SISERI_SMTP_HOST");
    c
}

/// `siseri serve` on a free port of an SQLite file; killed when dropped, even when the test
/// panicked.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts the server, its standard error in `log`, and waits until `/healthz` answers.
    pub fn start(db: &Path, log: PathBuf) -> Server {
        let mut child = siseri()
            .arg("--database")
            .arg(format!("sqlite:{}", db.display()))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("server log"))
            .spawn()
            .expect("siseri serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        // The server prints its URL once bound (port 0: the system picks a free one).
        let base = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                panic!(
                    "siseri serve exited before printing its URL:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            if let Some(rest) = line
                .expect("stdout line")
                .strip_prefix("SISERI écoute sur ")
            {
                break rest.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let server = Server { child, base, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&server.base, "/healthz", None).0 != 200 {
            assert!(
                Instant::now() < deadline,
                "{}/healthz did not answer 200 within 30 s",
                server.base
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// What the server wrote on its standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.1 GET (the tests stay synchronous): the status (0 when unreachable) and
/// the whole answer.
pub fn get(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let Ok(mut s) = TcpStream::connect(address) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    if write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n"
    )
    .is_err()
    {
        return (0, String::new());
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// The last `bytes` of `text` (at a character boundary).
pub fn tail(text: &str, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
