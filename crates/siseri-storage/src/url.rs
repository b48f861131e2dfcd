//! The database URL: `sqlite:PATH` or `postgres://…`, its password never printed.

use crate::StoreError;

/// The two engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded file (default).
    Sqlite,
    /// Production server.
    Postgres,
}

/// A database URL whose `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    engine: Engine,
}

impl DatabaseUrl {
    /// The default: `sqlite:siseri.db` in the working directory.
    pub const DEFAULT: &'static str = "sqlite:siseri.db";

    /// Parses a URL, checking only the scheme.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        let engine = if raw.starts_with("sqlite:") {
            Engine::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            return Err(StoreError::Url(redact(raw)));
        };
        Ok(DatabaseUrl {
            raw: raw.to_string(),
            engine,
        })
    }

    /// Which engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The SQLite file path (`sqlite:PATH`, `sqlite://PATH`), without query string.
    pub fn sqlite_path(&self) -> Option<&str> {
        let rest = self.raw.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        Some(rest.split('?').next().unwrap_or(rest))
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
fn redact(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => raw.to_string(),
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn engines_and_paths() {
        let u = DatabaseUrl::parse("sqlite:siseri.db").unwrap();
        assert_eq!(u.engine(), Engine::Sqlite);
        assert_eq!(u.sqlite_path(), Some("siseri.db"));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db?mode=rwc")
                .unwrap()
                .sqlite_path(),
            Some("/tmp/x.db")
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/db").unwrap().engine(),
            Engine::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
    }

    #[test]
    fn passwords_are_never_printed() {
        let u = DatabaseUrl::parse("postgres://app:s3cret@db:5432/siseri").unwrap();
        assert_eq!(u.to_string(), "postgres://app:***@db:5432/siseri");
        assert!(!format!("{u:?}").contains("s3cret"));
        let e = DatabaseUrl::parse("mongodb://a:s3cret@h").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
    }
}
