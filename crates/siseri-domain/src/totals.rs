//! Which monthly sum a result feeds (rules.md §2–§3).
//!
//! The registry keeps, per worker, month and series, the sum of the current versions of the
//! results that belong to that month, so that no total ever re-reads the results. A result
//! belongs to the month of its `DATE_FIN`.

use chrono::{Datelike, NaiveDate};

use crate::codes::{Nature, Position, Quantity, ResultStatus};
use crate::result::ResultValues;

/// A calendar month, as `AAAA * 12 + (MM - 1)` so that windows are plain ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Self {
        Month(date.year() * 12 + date.month0() as i32)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// The month number, 1–12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12).unsigned_abs() + 1
    }

    /// `AAAA-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year(), self.month())
    }

    /// Parses `AAAA-MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let y: i32 = y.parse().ok()?;
        let m: u32 = m.parse().ok()?;
        (1..=12).contains(&m).then(|| Month(y * 12 + m as i32 - 1))
    }

    /// `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Self {
        Month(self.0 + n)
    }
}

/// One monthly series of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Series {
    /// Effective dose from external exposure (HP10, HP10_NEUTRON, cosmic E, estimated E).
    EExternal,
    /// Committed effective dose from internal monitoring (E50).
    EInternal,
    /// Effective dose from radon (E, kept apart: the classification advisory excludes it).
    ERadon,
    /// Lens of the eye, one series per eye (a result without position feeds both).
    Lens(Position),
    /// Skin (HP007).
    Skin,
    /// Extremities, one series per position.
    Extremity(Position),
}

impl Series {
    /// The stored code of the series.
    pub fn code(self) -> String {
        match self {
            Series::EExternal => "E_EXTERNE".into(),
            Series::EInternal => "E_INTERNE".into(),
            Series::ERadon => "E_RADON".into(),
            Series::Lens(p) => format!("CRISTALLIN_{}", p.code()),
            Series::Skin => "PEAU".into(),
            Series::Extremity(p) => format!("EXTREMITE_{}", p.code()),
        }
    }

    /// Reads a stored code back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "E_EXTERNE" => Some(Series::EExternal),
            "E_INTERNE" => Some(Series::EInternal),
            "E_RADON" => Some(Series::ERadon),
            "PEAU" => Some(Series::Skin),
            _ => {
                if let Some(p) = s.strip_prefix("CRISTALLIN_") {
                    Position::parse(p).map(Series::Lens)
                } else {
                    s.strip_prefix("EXTREMITE_")
                        .and_then(Position::parse)
                        .map(Series::Extremity)
                }
            }
        }
    }

    /// Whether the series is part of the effective dose `E`.
    pub fn is_effective(self) -> bool {
        matches!(self, Series::EExternal | Series::EInternal | Series::ERadon)
    }
}

/// What one result version adds to its month: the series it feeds (with the dose counted),
/// and whether it marks the month incomplete (`ABSENCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The month of `DATE_FIN`.
    pub month: Month,
    /// The series and the µSv added to each.
    pub doses: Vec<(Series, i64)>,
    /// 1 for an `ABSENCE`, else 0.
    pub absences: i64,
}

/// The contribution of one version of a result; `None` for a cancelled version.
pub fn contribution(
    nature: Nature,
    quantity: Quantity,
    position: Option<Position>,
    values: &ResultValues,
) -> Option<Contribution> {
    if values.statut == ResultStatus::Cancelled {
        return None;
    }
    let dose = values.counted_usv();
    let series: Vec<Series> = match quantity {
        Quantity::Hp10 | Quantity::Hp10Neutron => vec![Series::EExternal],
        Quantity::E50 => vec![Series::EInternal],
        Quantity::E if nature == Nature::Radon => vec![Series::ERadon],
        Quantity::E => vec![Series::EExternal],
        Quantity::Hp3 => match position {
            Some(p) => vec![Series::Lens(p)],
            None => vec![
                Series::Lens(Position::LeftEye),
                Series::Lens(Position::RightEye),
            ],
        },
        Quantity::Hp007 => vec![Series::Skin],
        Quantity::Hp007Extremity => position.map(Series::Extremity).into_iter().collect(),
    };
    Some(Contribution {
        month: Month::of(values.date_fin),
        doses: series.into_iter().map(|s| (s, dose)).collect(),
        absences: i64::from(values.statut == ResultStatus::Absent),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn values(statut: ResultStatus, dose: Option<i64>) -> ResultValues {
        ResultValues {
            date_debut: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            date_fin: NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
            statut,
            dose_usv: dose,
            seuil_usv: None,
        }
    }

    #[test]
    fn months_are_ranges_and_labels_round_trip() {
        let m = Month::of(NaiveDate::from_ymd_opt(2025, 1, 15).unwrap());
        assert_eq!(m.label(), "2025-01");
        assert_eq!(m.plus(-1).label(), "2024-12");
        assert_eq!(m.plus(11).label(), "2025-12");
        assert_eq!(Month::parse("2025-01"), Some(m));
        assert_eq!(Month::parse("2025-13"), None);
        assert_eq!(Month::parse("25-01"), None);
    }

    #[test]
    fn each_quantity_feeds_its_series() {
        let v = values(ResultStatus::Measured, Some(250));
        let c = contribution(Nature::External, Quantity::Hp10, None, &v).unwrap();
        assert_eq!(c.month.label(), "2025-03");
        assert_eq!(c.doses, vec![(Series::EExternal, 250)]);
        let c = contribution(Nature::Radon, Quantity::E, None, &v).unwrap();
        assert_eq!(c.doses, vec![(Series::ERadon, 250)]);
        let c = contribution(Nature::InternalInVivo, Quantity::E50, None, &v).unwrap();
        assert_eq!(c.doses, vec![(Series::EInternal, 250)]);
        let c = contribution(Nature::External, Quantity::Hp3, None, &v).unwrap();
        assert_eq!(c.doses.len(), 2, "no position: both eyes");
        let c = contribution(
            Nature::External,
            Quantity::Hp007Extremity,
            Some(Position::LeftHand),
            &v,
        )
        .unwrap();
        assert_eq!(c.doses, vec![(Series::Extremity(Position::LeftHand), 250)]);
    }

    #[test]
    fn absence_counts_nothing_but_marks_the_month_and_cancelled_counts_nothing() {
        let c = contribution(
            Nature::External,
            Quantity::Hp10,
            None,
            &values(ResultStatus::Absent, None),
        )
        .unwrap();
        assert_eq!((c.doses[0].1, c.absences), (0, 1));
        assert!(
            contribution(
                Nature::External,
                Quantity::Hp10,
                None,
                &values(ResultStatus::Cancelled, None)
            )
            .is_none()
        );
    }

    #[test]
    fn series_codes_round_trip() {
        for s in [
            Series::EExternal,
            Series::EInternal,
            Series::ERadon,
            Series::Skin,
            Series::Lens(Position::LeftEye),
            Series::Extremity(Position::RightFoot),
        ] {
            assert_eq!(Series::parse(&s.code()), Some(s));
        }
        assert_eq!(Series::parse("X"), None);
    }
}
