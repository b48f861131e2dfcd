//! Numbers, doses and dates as French readers expect them (`12/03/2025`, `1,25 mSv`,
//! `12 345`).

use chrono::{DateTime, NaiveDate, Utc};
use siseri_domain::totals::Month;

/// An integer as written in French: groups of three digits separated by a narrow
/// no-break space (`12 345`).
pub fn integer(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A dose in µSv written in mSv with a decimal comma: two decimals, a third only when
/// it is not zero (`1,25 mSv`, `0,005 mSv`, `20,00 mSv`).
pub fn msv(usv: i64) -> String {
    let sign = if usv < 0 { "-" } else { "" };
    let a = usv.unsigned_abs();
    let whole = integer((a / 1000) as i64);
    let frac = a % 1000;
    let decimals = if frac.is_multiple_of(10) {
        format!("{:02}", frac / 10)
    } else {
        format!("{frac:03}")
    };
    format!("{sign}{whole},{decimals}\u{a0}mSv")
}

/// A date as `12/03/2025`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// An instant as `12/03/2025 à 14:05` (Paris time).
pub fn date_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&siseri_domain::clock::paris_offset(t))
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// A month as `03/2025`.
pub fn month(m: Month) -> String {
    format!("{:02}/{}", m.month(), m.year())
}

/// A share as a percentage with no decimal (`85 %`).
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".into();
    }
    format!("{}\u{a0}%", (part.max(0) * 100 + whole / 2) / whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_french() {
        assert_eq!(integer(0), "0");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1000), "1\u{202f}000");
        assert_eq!(integer(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(integer(-12_000), "-12\u{202f}000");
    }

    #[test]
    fn doses_in_millisievert() {
        assert_eq!(msv(1250), "1,25\u{a0}mSv");
        assert_eq!(msv(0), "0,00\u{a0}mSv");
        assert_eq!(msv(5), "0,005\u{a0}mSv");
        assert_eq!(msv(20_000), "20,00\u{a0}mSv");
        assert_eq!(msv(1_234_560), "1\u{202f}234,56\u{a0}mSv");
        assert_eq!(msv(-100), "-0,10\u{a0}mSv");
    }

    #[test]
    fn dates_in_french() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 12).unwrap_or_default();
        assert_eq!(date(d), "12/03/2025");
        let t = d.and_hms_opt(13, 5, 0).unwrap_or_default().and_utc();
        assert_eq!(date_time(t), "12/03/2025 à 14:05");
        assert_eq!(percent(17, 20), "85\u{a0}%");
        assert_eq!(percent(1, 0), "—");
    }
}
