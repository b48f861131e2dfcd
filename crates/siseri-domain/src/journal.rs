//! The journal's hash chain: the canonical form of an entry, its SHA-256, and the
//! verification of a whole chain against the separately kept count and head.
//!
//! The canonical form is UTF-8 JSON with a fixed key order and times in UTC to the
//! microsecond, so that the chain computed on SQLite verifies on PostgreSQL and back.
//! Workers are named only by their surrogate ids, never by NIR or name, so that a
//! retention purge leaves the chain intact.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as the edge records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEvent {
    /// When (UTC; stored and hashed to the microsecond).
    pub at: DateTime<Utc>,
    /// Login of the person or machine acting (`anonyme` before authentication).
    pub actor: String,
    /// The actor's role code, when known.
    pub role: Option<String>,
    /// `LECTURE`, `LECTURE_REFUSEE`, `ECRITURE`, `CONNEXION`, `CONNEXION_REFUSEE`…
    pub action: String,
    /// What kind of data (`IDENTITE`, `RESULTATS_EXTERNES`, `COMPTE`, `TRANSMISSION`…).
    pub data_kind: String,
    /// Surrogate ids of the workers concerned.
    pub worker_ids: Vec<i64>,
    /// `OK`, `REFUSE` or `ECHEC`.
    pub outcome: String,
    /// An inspector's mission reference.
    pub mission: Option<String>,
    /// A non-nominative detail (an id, a login acted upon, a count).
    pub detail: Option<String>,
}

impl JournalEvent {
    /// An event with the common fields; set the others directly.
    pub fn new(at: DateTime<Utc>, actor: &str, action: &str, data_kind: &str) -> Self {
        JournalEvent {
            at,
            actor: actor.to_string(),
            role: None,
            action: action.to_string(),
            data_kind: data_kind.to_string(),
            worker_ids: Vec::new(),
            outcome: "OK".to_string(),
            mission: None,
            detail: None,
        }
    }

    /// The time truncated to the microsecond, as stored.
    pub fn normalised(mut self) -> Self {
        let micros = self.at.timestamp_micros();
        self.at = DateTime::from_timestamp_micros(micros).unwrap_or(self.at);
        self
    }
}

/// A stored entry: its place in the chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// 1, 2, 3… without gaps.
    pub seq: i64,
    /// The event.
    pub event: JournalEvent,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 of this entry's canonical form, hex.
    pub hash: String,
}

fn json_str(s: &str) -> String {
    // Serialising a string cannot fail; the fallback keeps the function total.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn json_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), json_str)
}

/// The canonical form: keys in this fixed order, no spaces, UTC time with six decimals.
pub fn canonical(seq: i64, prev_hash: &str, e: &JournalEvent) -> String {
    let ids: Vec<String> = e.worker_ids.iter().map(i64::to_string).collect();
    format!(
        "{{\"seq\":{seq},\"prev\":{},\"at\":{},\"actor\":{},\"role\":{},\"action\":{},\"data_kind\":{},\
         \"workers\":[{}],\"outcome\":{},\"mission\":{},\"detail\":{}}}",
        json_str(prev_hash),
        json_str(&e.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        json_str(&e.actor),
        json_opt(e.role.as_deref()),
        json_str(&e.action),
        json_str(&e.data_kind),
        ids.join(","),
        json_str(&e.outcome),
        json_opt(e.mission.as_deref()),
        json_opt(e.detail.as_deref()),
    )
}

/// The hash of an entry.
pub fn entry_hash(seq: i64, prev_hash: &str, e: &JournalEvent) -> String {
    hex::encode(Sha256::digest(canonical(seq, prev_hash, e).as_bytes()))
}

/// Chains `event` after an entry whose sequence number and hash are given.
pub fn chain(prev_seq: i64, prev_hash: &str, event: JournalEvent) -> JournalEntry {
    let event = event.normalised();
    let seq = prev_seq + 1;
    let hash = entry_hash(seq, prev_hash, &event);
    JournalEntry {
        seq,
        event,
        prev_hash: prev_hash.to_string(),
        hash,
    }
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's content no longer matches its hash.
    #[error("entrée n° {seq} : contenu modifié (empreinte invalide)")]
    Altered {
        /// The entry.
        seq: i64,
    },
    /// An entry does not follow the previous one (removed or inserted entries).
    #[error("entrée n° {seq} : ne suit pas l'entrée précédente (entrée n° {expected} attendue)")]
    Broken {
        /// The entry found.
        seq: i64,
        /// The entry expected at this place.
        expected: i64,
    },
    /// The chain is shorter or longer than the separately kept count.
    #[error(
        "le journal compte {found} entrées, {kept} attendues (entrées finales supprimées ou ajoutées) : première entrée en cause n° {first}"
    )]
    Count {
        /// Entries found.
        found: i64,
        /// The kept count.
        kept: i64,
        /// The first entry missing (or in excess).
        first: i64,
    },
    /// The last hash differs from the separately kept head.
    #[error("la dernière entrée (n° {seq}) ne correspond pas à la tête conservée à part")]
    Head {
        /// The last entry.
        seq: i64,
    },
}

impl ChainBreak {
    /// The first entry in question.
    pub fn first_broken(&self) -> i64 {
        match self {
            ChainBreak::Altered { seq } | ChainBreak::Head { seq } => *seq,
            ChainBreak::Broken { seq, expected } => (*seq).min(*expected),
            ChainBreak::Count { first, .. } => *first,
        }
    }
}

/// Checks a chain incrementally, entry by entry, in sequence order.
#[derive(Debug, Clone)]
pub struct Verifier {
    last_seq: i64,
    last_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            last_seq: 0,
            last_hash: GENESIS.to_string(),
        }
    }
}

impl Verifier {
    /// Checks the next entry.
    pub fn push(&mut self, e: &JournalEntry) -> Result<(), ChainBreak> {
        if e.seq != self.last_seq + 1 || e.prev_hash != self.last_hash {
            return Err(ChainBreak::Broken {
                seq: e.seq,
                expected: self.last_seq + 1,
            });
        }
        if entry_hash(e.seq, &e.prev_hash, &e.event) != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        self.last_seq = e.seq;
        self.last_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Compares the end of the chain with the count and head kept apart.
    pub fn finish(&self, kept_count: i64, kept_head: &str) -> Result<i64, ChainBreak> {
        if self.last_seq != kept_count {
            return Err(ChainBreak::Count {
                found: self.last_seq,
                kept: kept_count,
                first: self.last_seq.min(kept_count) + 1,
            });
        }
        if self.last_hash != kept_head {
            return Err(ChainBreak::Head { seq: self.last_seq });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(i: i64) -> JournalEvent {
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 8, 0, 0).unwrap()
            + chrono::Duration::microseconds(i * 1_000_001);
        let mut e = JournalEvent::new(at, "dr.martin", "LECTURE", "RESULTATS_EXTERNES");
        e.role = Some("MDT".into());
        e.worker_ids = vec![i, i + 1];
        e
    }

    fn build(n: i64) -> Vec<JournalEntry> {
        let mut out: Vec<JournalEntry> = Vec::new();
        for i in 0..n {
            let (seq, prev) = out
                .last()
                .map_or((0, GENESIS.to_string()), |e| (e.seq, e.hash.clone()));
            out.push(chain(seq, &prev, event(i)));
        }
        out
    }

    fn verify(entries: &[JournalEntry], count: i64, head: &str) -> Result<i64, ChainBreak> {
        let mut v = Verifier::default();
        for e in entries {
            v.push(e)?;
        }
        v.finish(count, head)
    }

    #[test]
    fn canonical_form_is_fixed() {
        let mut e = event(0);
        e.detail = Some("l'accès \"test\"".into());
        assert_eq!(
            canonical(1, GENESIS, &e),
            format!(
                "{{\"seq\":1,\"prev\":\"{GENESIS}\",\"at\":\"2025-01-01T08:00:00.000000Z\",\"actor\":\"dr.martin\",\
                 \"role\":\"MDT\",\"action\":\"LECTURE\",\"data_kind\":\"RESULTATS_EXTERNES\",\"workers\":[0,1],\
                 \"outcome\":\"OK\",\"mission\":null,\"detail\":\"l'accès \\\"test\\\"\"}}"
            )
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = build(5);
        let last = entries.last().unwrap();
        assert_eq!(verify(&entries, 5, &last.hash), Ok(5));
        assert_eq!(verify(&[], 0, GENESIS), Ok(0));
    }

    #[test]
    fn alteration_removal_and_truncation_are_detected() {
        let entries = build(6);
        let head = entries[5].hash.clone();
        let mut altered = entries.clone();
        altered[2].event.actor = "admin".into();
        assert_eq!(
            verify(&altered, 6, &head),
            Err(ChainBreak::Altered { seq: 3 })
        );
        let mut removed = entries.clone();
        removed.remove(3);
        assert_eq!(verify(&removed, 6, &head).unwrap_err().first_broken(), 4);
        let truncated = &entries[..4];
        let e = verify(truncated, 6, &head).unwrap_err();
        assert_eq!(e.first_broken(), 5);
        // Truncated with the head rewritten to match: the count still tells.
        assert!(verify(truncated, 6, &entries[3].hash).is_err());
        // A rewritten head alone.
        assert_eq!(
            verify(&entries, 6, GENESIS),
            Err(ChainBreak::Head { seq: 6 })
        );
    }

    #[test]
    fn times_are_hashed_to_the_microsecond() {
        let mut e = event(0);
        e.at += chrono::Duration::nanoseconds(999);
        let a = chain(0, GENESIS, e.clone());
        assert_eq!(a.event.at.timestamp_subsec_nanos() % 1000, 0);
        assert_eq!(a.hash, entry_hash(1, GENESIS, &a.event));
    }

    proptest::proptest! {
        /// Changing any one entry's detail breaks the chain at that entry, never earlier.
        #[test]
        fn any_change_is_found_where_it_is(n in 1i64..20, k in 0usize..20, text in ".{0,20}") {
            let mut entries = build(n);
            let k = k % entries.len();
            let head = entries.last().unwrap().hash.clone();
            proptest::prop_assume!(entries[k].event.detail.as_deref() != Some(text.as_str()));
            entries[k].event.detail = Some(text);
            let e = verify(&entries, n, &head).unwrap_err();
            proptest::prop_assert_eq!(e.first_broken(), k as i64 + 1);
        }
    }
}
