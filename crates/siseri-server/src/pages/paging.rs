//! Pagination and search of lists: `?page=N&q=TEXT` (plus a list's own filters), 50
//! rows a page, links that keep the other parameters.

use serde::Deserialize;

/// Rows per page.
pub const PER_PAGE: usize = 50;

/// The common query of a list page.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// The page, from 1.
    #[serde(default)]
    pub page: Option<usize>,
    /// The search text.
    #[serde(default)]
    pub q: Option<String>,
}

impl ListQuery {
    /// The search text, trimmed and lower-cased; `None` when empty.
    pub fn needle(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase)
    }

    /// The search text as typed (for the search field).
    pub fn text(&self) -> String {
        self.q.clone().unwrap_or_default()
    }
}

/// One page of a list, with what the template needs to draw the DSFR pagination.
#[derive(Debug)]
pub struct Paged<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// This page, from 1.
    pub page: usize,
    /// How many pages (at least 1).
    pub pages: usize,
    /// How many rows in all.
    pub total: usize,
    /// The query string without `page`, e.g. `q=dupont&alerte=1` (may be empty).
    pub keep: String,
}

impl<T> Paged<T> {
    /// Cuts `all` to the page asked for (out-of-range pages give the last one).
    pub fn of(all: Vec<T>, page: Option<usize>, keep: &[(&str, String)]) -> Self {
        let total = all.len();
        let pages = total.div_ceil(PER_PAGE).max(1);
        let page = page.unwrap_or(1).clamp(1, pages);
        let rows = all
            .into_iter()
            .skip((page - 1) * PER_PAGE)
            .take(PER_PAGE)
            .collect();
        let keep = keep
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        Paged {
            rows,
            page,
            pages,
            total,
            keep,
        }
    }

    /// The link to page `n`.
    pub fn href(&self, n: impl PageNumber) -> String {
        let n = n.number();
        if self.keep.is_empty() {
            format!("?page={n}")
        } else {
            format!("?{}&page={n}", self.keep)
        }
    }

    /// The page numbers to show: the first, the last, and two around the current one;
    /// `0` stands for an ellipsis.
    pub fn numbers(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for n in 1..=self.pages {
            let near = n + 2 >= self.page && n <= self.page + 2;
            if n == 1 || n == self.pages || near {
                out.push(n);
            } else if out.last() != Some(&0) {
                out.push(0);
            }
        }
        out
    }

    /// The number of the previous page, if any.
    pub fn previous(&self) -> Option<usize> {
        (self.page > 1).then(|| self.page - 1)
    }

    /// The number of the next page, if any.
    pub fn next(&self) -> Option<usize> {
        (self.page < self.pages).then(|| self.page + 1)
    }
}

/// A page number however a template hands it over (`usize`, `&usize`, `&&usize`).
pub trait PageNumber {
    /// The number.
    fn number(&self) -> usize;
}

impl PageNumber for usize {
    fn number(&self) -> usize {
        *self
    }
}

impl<T: PageNumber + ?Sized> PageNumber for &T {
    fn number(&self) -> usize {
        (**self).number()
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded value (the inverse of [`encode`]; `+` is a space);
/// malformed escapes stay as they are.
pub fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => {
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether any of `fields` contains the lower-cased `needle`.
pub fn matches(needle: &Option<String>, fields: &[&str]) -> bool {
    needle
        .as_ref()
        .is_none_or(|n| fields.iter().any(|f| f.to_lowercase().contains(n.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_cut_and_linked() {
        let p = Paged::of((0..120).collect(), Some(2), &[("q", "é x".into())]);
        assert_eq!(p.rows.len(), 50);
        assert_eq!(p.rows[0], 50);
        assert_eq!(p.pages, 3);
        assert_eq!(p.href(3), "?q=%C3%A9%20x&page=3");
        assert_eq!(p.previous(), Some(1));
        assert_eq!(p.next(), Some(3));
        let last = Paged::of((0..120).collect::<Vec<i32>>(), Some(99), &[]);
        assert_eq!(last.page, 3);
        assert_eq!(last.rows.len(), 20);
        assert_eq!(last.href(1), "?page=1");
        let empty = Paged::of(Vec::<i32>::new(), None, &[]);
        assert_eq!((empty.page, empty.pages, empty.total), (1, 1, 0));
    }

    #[test]
    fn long_lists_show_an_ellipsis() {
        let p = Paged::of((0..1000).collect::<Vec<i32>>(), Some(10), &[]);
        assert_eq!(p.numbers(), vec![1, 0, 8, 9, 10, 11, 12, 0, 20]);
    }

    #[test]
    fn values_round_trip() {
        for v in ["MISSION 2025/12 é", "", "%", "a%2", "100%"] {
            assert_eq!(decode(&encode(v)), v);
        }
        assert_eq!(decode("a+b%zz%4"), "a b%zz%4");
    }

    #[test]
    fn search_matches_any_field() {
        assert!(matches(&None, &["x"]));
        assert!(matches(&Some("dup".into()), &["1234", "DUPONT"]));
        assert!(!matches(&Some("zz".into()), &["DUPONT"]));
    }
}
