//! The indicators of a worker's record (`api.md`: `indicateurs`): the classification
//! advisory `CLASSEMENT_A_REVOIR` (`rules.md` §4, computed by
//! [`crate::limits::classification_to_review`]) and the gap between reference and
//! operational dosimetry `ECART_PASSIF_OPERATIONNEL` (§7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::{Nature, Quantity};

/// The code of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum IndicatorCode {
    /// A category-B worker over the category-B thresholds (R4451‑57).
    #[serde(rename = "CLASSEMENT_A_REVOIR")]
    ClassementARevoir,
    /// Reference and operational dosimetry disagree for a month and an establishment.
    #[serde(rename = "ECART_PASSIF_OPERATIONNEL")]
    EcartPassifOperationnel,
}

impl IndicatorCode {
    /// Every code.
    pub const ALL: &'static [IndicatorCode] = &[
        IndicatorCode::ClassementARevoir,
        IndicatorCode::EcartPassifOperationnel,
    ];

    /// The code, as stored and shown.
    pub fn code(self) -> &'static str {
        match self {
            IndicatorCode::ClassementARevoir => "CLASSEMENT_A_REVOIR",
            IndicatorCode::EcartPassifOperationnel => "ECART_PASSIF_OPERATIONNEL",
        }
    }

    /// Parses a code, ignoring case and surrounding spaces.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.code().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for IndicatorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The absolute part of the gap threshold: 0.5 mSv.
pub const GAP_MIN_USV: i64 = 500;

/// The relative part of the gap threshold: 30 % of the larger value.
pub const GAP_MIN_PERCENT: i64 = 30;

/// Whether a reference `HP10` total and an operational `OPE-HP10-PHO` total of the same
/// worker, month and establishment differ by more than both 500 µSv and 30 % of the larger.
pub fn is_passive_operational_gap(reference_usv: i64, operational_usv: i64) -> bool {
    let (a, b) = (i128::from(reference_usv), i128::from(operational_usv));
    let diff = (a - b).abs();
    let larger = a.max(b);
    diff > i128::from(GAP_MIN_USV) && diff * 100 > larger * i128::from(GAP_MIN_PERCENT)
}

/// Whether a result feeds the reference `HP10` total compared with operational dosimetry:
/// quantity `HP10` (photons, like `OPE-HP10-PHO`; not `HP10_NEUTRON`), of NATURE `EXTERNE`
/// or `ESTIMATION_MDT` (the natures that feed `E` with `HP10`, §2).
pub fn feeds_reference_hp10(nature: Nature, quantity: Quantity) -> bool {
    quantity == Quantity::Hp10 && matches!(nature, Nature::External | Nature::PhysicianEstimate)
}

/// The keys (for one worker: month and establishment, e.g. `(Month, Siret)`) that have both
/// a reference total and an operational total and show the gap. Items with the same key
/// are summed first: pass the current versions' reference `HP10` doses (month of
/// `DATE_FIN`) and operational `OPE-HP10-PHO` doses (month of `DATE_FIN_PORT`).
pub fn passive_operational_gaps<K: Ord + Clone>(
    reference: impl IntoIterator<Item = (K, i64)>,
    operational: impl IntoIterator<Item = (K, i64)>,
) -> Vec<K> {
    let totals = |items: &mut dyn Iterator<Item = (K, i64)>| {
        let mut out: BTreeMap<K, i64> = BTreeMap::new();
        for (k, v) in items {
            *out.entry(k).or_insert(0) += v;
        }
        out
    };
    let reference = totals(&mut reference.into_iter());
    let operational = totals(&mut operational.into_iter());
    reference
        .iter()
        .filter_map(|(k, r)| {
            let o = operational.get(k)?;
            is_passive_operational_gap(*r, *o).then(|| k.clone())
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::totals::Month;
    use proptest::prelude::*;

    #[test]
    fn codes() {
        for c in IndicatorCode::ALL {
            assert_eq!(IndicatorCode::parse(c.code()), Some(*c));
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        assert_eq!(
            IndicatorCode::parse("ecart_passif_operationnel"),
            Some(IndicatorCode::EcartPassifOperationnel)
        );
        assert_eq!(IndicatorCode::parse("X"), None);
    }

    #[test]
    fn gap_must_exceed_both_half_a_msv_and_thirty_percent() {
        // Absolute threshold: large values, 30 % is far above 500.
        assert!(!is_passive_operational_gap(10_000, 9_500));
        // 30 % of the larger: 10 000 vs 7 000 is exactly 30 %, not more.
        assert!(!is_passive_operational_gap(10_000, 7_000));
        assert!(is_passive_operational_gap(10_000, 6_999));
        assert!(is_passive_operational_gap(6_999, 10_000), "symmetric");
        // Small values: 30 % is met but not 500 µSv.
        assert!(!is_passive_operational_gap(500, 0));
        assert!(is_passive_operational_gap(501, 0));
        assert!(is_passive_operational_gap(0, 501));
        // 1 000 vs 499: diff 501 > 500 and > 300.
        assert!(is_passive_operational_gap(1_000, 499));
        assert!(!is_passive_operational_gap(1_000, 500));
        // Around the point where both thresholds meet (larger = 1 667).
        assert!(
            !is_passive_operational_gap(1_600, 1_100),
            "500 is not more than 500"
        );
        assert!(
            is_passive_operational_gap(1_600, 1_099),
            "501 > 500 and > 480"
        );
        assert!(
            !is_passive_operational_gap(1_700, 1_199),
            "501 > 500 but not > 510"
        );
        assert!(!is_passive_operational_gap(0, 0));
        assert!(!is_passive_operational_gap(i64::MAX, i64::MAX));
    }

    #[test]
    fn gaps_by_month_and_establishment() {
        let m = Month::parse("2025-03").unwrap();
        let n = m.plus(1);
        let reference = [
            ((m, "A"), 800),
            ((m, "A"), 700),
            ((m, "B"), 2_000),
            ((n, "A"), 3_000),
        ];
        let operational = [((m, "A"), 900), ((m, "B"), 1_900), ((m, "C"), 9_000)];
        // (m, A): 1 500 vs 900 → 600 > 500 and > 450. (m, B): 100. (n, A): no operational.
        // (m, C): no reference.
        assert_eq!(
            passive_operational_gaps(reference, operational),
            vec![(m, "A")]
        );
    }

    #[test]
    fn reference_hp10() {
        assert!(feeds_reference_hp10(Nature::External, Quantity::Hp10));
        assert!(feeds_reference_hp10(
            Nature::PhysicianEstimate,
            Quantity::Hp10
        ));
        assert!(!feeds_reference_hp10(
            Nature::External,
            Quantity::Hp10Neutron
        ));
        assert!(!feeds_reference_hp10(Nature::Cosmic, Quantity::E));
        assert!(!feeds_reference_hp10(Nature::External, Quantity::Hp007));
    }

    proptest! {
        /// The integer rule equals the decimal statement of §7.
        #[test]
        fn gap_rule_matches_the_statement(a in 0i64..50_000, b in 0i64..50_000) {
            let diff = (a - b).abs() as f64;
            let larger = a.max(b) as f64;
            let expected = diff > 500.0 && diff > 0.3 * larger + 1e-9;
            prop_assert_eq!(is_passive_operational_gap(a, b), expected);
            prop_assert_eq!(is_passive_operational_gap(a, b), is_passive_operational_gap(b, a));
        }
    }
}
