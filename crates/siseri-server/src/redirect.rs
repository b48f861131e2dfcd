//! Where a user-given return path may send the browser: only to a path of this registry.
//!
//! Browsers read `Location: /\evil.example` as `//evil.example` (another site), and strip
//! tabs and line breaks before resolving, so a prefix check is not enough: the value must be
//! an absolute path with nothing a browser could turn into an authority.

/// The path itself when `candidate` is a local path of the registry: it starts with one `/`,
/// has no `\`, no `//`, no scheme or authority, and only visible ASCII (no control
/// character, space or byte a header could not carry); `None` otherwise.
pub fn local_path(candidate: &str) -> Option<&str> {
    let local = candidate.starts_with('/')
        && !candidate.contains("//")
        && !candidate.contains('\\')
        && candidate.bytes().all(|b| b.is_ascii_graphic());
    // A single leading slash and no "//" leave no room for an authority; a scheme would
    // need the value not to start with '/'. The parse is a last guard (and what axum's
    // Redirect will do with it).
    let parses = local
        && candidate
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.scheme().is_none() && u.authority().is_none());
    parses.then_some(candidate)
}

/// `candidate` if it is a local path, else `fallback`.
pub fn local_or<'a>(candidate: &'a str, fallback: &'a str) -> &'a str {
    local_path(candidate).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        for good in [
            "/",
            "/compte",
            "/suivi?page=2&tri=nom",
            "/travailleurs/1#resultat-3",
        ] {
            assert_eq!(local_path(good), Some(good), "{good}");
        }
        for bad in [
            "",
            "compte",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a//b",
            "/é",
            "/\u{7f}",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_or("//x", "/"), "/");
    }
}
