//! Today's date, from one clock that every date rule uses.
//!
//! `rules.md`: "today" is the current date in Europe/Paris, or the date fixed by
//! `SISERI_TODAY=AAAA-MM-JJ` (a testing aid). The domain never reads the
//! environment itself: the edge (CLI, server) builds the clock once and passes it on.

use chrono::{Datelike, NaiveDate, Utc};

/// Where "today" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The current date in Europe/Paris.
    System,
    /// A fixed date (tests, `SISERI_TODAY`).
    Fixed(NaiveDate),
}

/// A `SISERI_TODAY` value that is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SISERI_TODAY : date attendue au format AAAA-MM-JJ, reçu « {0} »")]
pub struct ClockError(pub String);

impl Clock {
    /// Builds the clock from the value of `SISERI_TODAY`, if any (empty = unset).
    pub fn from_override(value: Option<&str>) -> Result<Self, ClockError> {
        match value.map(str::trim) {
            None | Some("") => Ok(Clock::System),
            Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Clock::Fixed)
                .map_err(|_| ClockError(v.to_string())),
        }
    }

    /// Today's date in Europe/Paris.
    pub fn today(&self) -> NaiveDate {
        match self {
            Clock::Fixed(d) => *d,
            Clock::System => paris_date(Utc::now().naive_utc()),
        }
    }

    /// The current month, as its first day.
    pub fn current_month(&self) -> NaiveDate {
        let t = self.today();
        t.with_day(1).unwrap_or(t)
    }
}

/// The date in Europe/Paris of a UTC instant.
///
/// Without a time-zone database: France (metropolitan) is UTC+1, and UTC+2 from the
/// last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC (EU rule
/// since 1996), which is all a date needs.
pub fn paris_date(utc: chrono::NaiveDateTime) -> NaiveDate {
    (utc + chrono::Duration::hours(paris_hours(utc))).date()
}

fn paris_hours(utc: chrono::NaiveDateTime) -> i64 {
    let year = utc.year();
    let dst_start = last_sunday(year, 3).and_hms_opt(1, 0, 0);
    let dst_end = last_sunday(year, 10).and_hms_opt(1, 0, 0);
    match (dst_start, dst_end) {
        (Some(s), Some(e)) if utc >= s && utc < e => 2,
        _ => 1,
    }
}

/// The offset of Europe/Paris at a UTC instant (+01:00 or +02:00), to show instants in the
/// registry's local time.
pub fn paris_offset(utc: chrono::DateTime<chrono::Utc>) -> chrono::FixedOffset {
    let secs = i32::try_from(paris_hours(utc.naive_utc()) * 3600).unwrap_or(3600);
    chrono::FixedOffset::east_opt(secs).unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc))
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next_month_first = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let last = next_month_first
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MIN);
    let back = last.weekday().num_days_from_sunday();
    last - chrono::Duration::days(i64::from(back))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dt(s: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn override_fixes_today() {
        let c = Clock::from_override(Some("2025-03-31")).unwrap();
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2025, 3, 31).unwrap());
        assert_eq!(
            c.current_month(),
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()
        );
    }

    #[test]
    fn empty_or_missing_override_is_system() {
        assert_eq!(Clock::from_override(None).unwrap(), Clock::System);
        assert_eq!(Clock::from_override(Some(" ")).unwrap(), Clock::System);
    }

    #[test]
    fn bad_override_is_refused_with_its_value() {
        let e = Clock::from_override(Some("31/03/2025")).unwrap_err();
        assert!(e.to_string().contains("31/03/2025"));
        assert!(Clock::from_override(Some("2025-02-30")).is_err());
    }

    #[test]
    fn paris_date_follows_summer_time() {
        // Winter (UTC+1): 22:30 UTC is 23:30 in Paris, the same day; 23:30 UTC is the next day.
        assert_eq!(
            paris_date(dt("2025-01-15 22:30")),
            NaiveDate::from_ymd_opt(2025, 1, 15).unwrap()
        );
        assert_eq!(
            paris_date(dt("2025-01-15 23:30")),
            NaiveDate::from_ymd_opt(2025, 1, 16).unwrap()
        );
        // Summer: UTC+2.
        assert_eq!(
            paris_date(dt("2025-07-15 22:30")),
            NaiveDate::from_ymd_opt(2025, 7, 16).unwrap()
        );
        // Last Sunday of March 2025 is the 30th; of October, the 26th.
        assert_eq!(
            last_sunday(2025, 3),
            NaiveDate::from_ymd_opt(2025, 3, 30).unwrap()
        );
        assert_eq!(
            last_sunday(2025, 10),
            NaiveDate::from_ymd_opt(2025, 10, 26).unwrap()
        );
        assert_eq!(
            paris_date(dt("2025-12-31 23:00")),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
    }
}
