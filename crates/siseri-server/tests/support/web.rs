//! What the tests of the pages (and of the API) share: the server on a free port for a
//! `TestDb`, the journal event of the set-up writes, accounts with a password, bearer
//! tokens, the anti-forgery token of a page, TOTP codes, and a browser that keeps the
//! session cookies by hand (they are `Secure`, and the test server speaks plain HTTP) and
//! logs in through the pages.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::net::SocketAddr;

use chrono::{NaiveDate, Utc};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::journal::JournalEvent;
use siseri_server::{AppState, auth};
use siseri_storage::testing::{TestDb, every_engine};

/// The password of the test accounts.
pub const PASSWORD: &str = "une phrase de passe assez longue";

/// The journal event of the set-up writes.
pub fn event() -> JournalEvent {
    JournalEvent::new(Utc::now(), "test", "ECRITURE", "TEST")
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Serves the pages and the API of `db` on a free port of 127.0.0.1.
pub async fn serve(db: &TestDb, clock: Clock) -> SocketAddr {
    serve_state(AppState::new(db.store.clone(), clock)).await
}

/// Serves `state` on a free port of 127.0.0.1.
pub async fn serve_state(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(siseri_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    addr
}

/// A client that follows no redirect, connecting from `local` (any 127.x.y.z works on the
/// loopback: a second client address for the throttle's tests).
pub fn client_from(local: std::net::IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .local_address(local)
        .build()
        .unwrap()
}

/// The anti-forgery token of a page's form.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no csrf in {html}"))
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// The TOTP code of `secret` now.
pub fn now_code(secret: &str) -> String {
    auth::totp_code(secret, Utc::now().timestamp() as u64).unwrap()
}

/// A bearer token of `login`, valid for a day.
pub async fn token(db: &TestDb, login: &str) -> String {
    let (token, hash) = auth::new_token();
    db.store
        .add_token(
            login,
            &hash,
            Utc::now() + chrono::Duration::days(1),
            &event(),
        )
        .await
        .unwrap();
    token
}

/// Creates `account` with `password`.
pub async fn add_account(db: &TestDb, account: &NewAccount, password: &str) {
    let hash = auth::hash_password(password).unwrap();
    db.store
        .add_account(account, Some(&hash), &event())
        .await
        .unwrap();
}

/// The server of a test database and a client that follows no redirect.
pub struct Env {
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    /// The server's instants (the login throttle's clock), to move forward.
    pub instants: siseri_server::Instants,
}

impl Env {
    /// Starts the server of `db` on the system clock.
    pub async fn start(db: TestDb) -> Env {
        Env::start_at(db, Clock::System).await
    }

    pub async fn start_at(db: TestDb, clock: Clock) -> Env {
        Env::start_with(db, clock, |s| s).await
    }

    /// Starts the server of `db` with its state changed by `configure`.
    pub async fn start_with(
        db: TestDb,
        clock: Clock,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Env {
        let state = configure(AppState::new(db.store.clone(), clock));
        let instants = state.instants.clone();
        let addr = serve_state(state).await;
        Env {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            db,
            instants,
        }
    }

    /// An account of `role` with the test password, its scope set by `configure`.
    pub async fn account(&self, login: &str, role: Role, configure: impl FnOnce(&mut NewAccount)) {
        let mut a = NewAccount::new(login, role);
        configure(&mut a);
        add_account(&self.db, &a, PASSWORD).await;
    }

    pub async fn token(&self, login: &str) -> String {
        token(&self.db, login).await
    }
}

/// One environment per engine, each set up by `start`.
pub async fn each_engine<T, F>(start: impl Fn(TestDb) -> F) -> Vec<T>
where
    F: Future<Output = T>,
{
    let mut out = Vec::new();
    for db in every_engine().await {
        out.push(start(db).await);
    }
    out
}

/// What a request answered: status, `Location`, the `Set-Cookie` headers, all headers, body.
pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

/// The answer as `(status, location, body)`.
impl From<Page> for (StatusCode, String, String) {
    fn from(p: Page) -> Self {
        (p.status, p.location, p.html)
    }
}

/// A browser: cookies by hand (no redirects followed), as the pages set them; every cookie
/// must be `HttpOnly`, `Secure` and `SameSite`. Its answers are `A`s: a [`Page`], or
/// `(status, location, body)`.
pub struct Browser<'a, A = Page> {
    pub env: &'a Env,
    pub cookies: BTreeMap<String, String>,
    /// The client it sends with (its address).
    pub http: reqwest::Client,
    answers: PhantomData<A>,
}

impl<'a, A: From<Page>> Browser<'a, A> {
    pub fn new(env: &'a Env) -> Self {
        Browser {
            env,
            cookies: BTreeMap::new(),
            http: env.http.clone(),
            answers: PhantomData,
        }
    }

    /// The same browser connecting from `local` (see [`client_from`]).
    pub fn connecting_from(mut self, local: std::net::IpAddr) -> Self {
        self.http = client_from(local);
        self
    }

    /// The `Cookie` header of the next request.
    pub fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends `request` with the cookies, and keeps those it sets.
    pub async fn request(&mut self, request: reqwest::RequestBuilder) -> A {
        self.page(request).await.into()
    }

    async fn page(&mut self, request: reqwest::RequestBuilder) -> Page {
        let r = request
            .header("cookie", self.header())
            .send()
            .await
            .unwrap();
        let mut set_cookies = Vec::new();
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            assert!(
                c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite"),
                "{c}"
            );
            let (kv, _) = c.split_once(';').unwrap_or((&c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.into(), v.into());
            }
            set_cookies.push(c);
        }
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        Page {
            status: r.status(),
            location,
            set_cookies,
            headers: r.headers().clone(),
            html: r.text().await.unwrap(),
        }
    }

    async fn page_of(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.env.base));
        self.page(request).await
    }

    pub async fn get(&mut self, path: &str) -> A {
        self.page_of(path).await.into()
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> A {
        let request = self
            .http
            .post(format!("{}{path}", self.env.base))
            .form(form);
        self.request(request).await
    }

    /// The login form, filled with `login` and `password`.
    pub async fn login(&mut self, login: &str, password: &str) -> A {
        let csrf = csrf_of(&self.page_of("/connexion").await.html);
        self.post(
            "/connexion",
            &[("login", login), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// The second-factor form, filled with the code of `secret` now.
    pub async fn second_factor(&mut self, secret: &str) -> A {
        let csrf = csrf_of(&self.page_of("/connexion/second-facteur").await.html);
        let code = now_code(secret);
        self.post(
            "/connexion/second-facteur",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await
    }

    /// Logs in through the pages: the password, then the code of `secret`, which must
    /// then be asked for (and only then); the session lands on `/compte`.
    pub async fn logged_in(
        env: &'a Env,
        login: &str,
        password: &str,
        secret: Option<&str>,
    ) -> Self {
        let mut b = Browser::<Page>::new(env);
        let p = b.login(login, password).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{login}: {}", p.html);
        if let Some(secret) = secret {
            assert_eq!(p.location, "/connexion/second-facteur", "{login}");
            let p = b.second_factor(secret).await;
            assert_eq!(p.status, StatusCode::SEE_OTHER, "{login}: {}", p.html);
            assert_eq!(p.location, "/compte", "{login}: {}", p.html);
        } else {
            assert_eq!(p.location, "/compte", "{login}: {}", p.html);
        }
        Browser {
            env,
            cookies: b.cookies,
            http: b.http,
            answers: PhantomData,
        }
    }
}
