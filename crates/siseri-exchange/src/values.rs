//! Parsers for the values common to every exchange format (exchange.md §1): dates, date-times,
//! decimal numbers (doses in mSv, work-time fractions) and person names.
//!
//! These functions are pure and never panic. They take values already trimmed by the caller
//! and report only what is wrong with the value itself; bounds, error codes and field names
//! are the caller's business (a [`ValueError`] is mapped to `DATE_FORMAT`, `VALEUR_FORMAT`,
//! `VALEUR_HORS_BORNES`, `QUOTITE_INVALIDE`… by the format being read).

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The form a value was expected to have; its `Display` is the French text of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedForm {
    /// A calendar date `JJ/MM/AAAA`.
    Date,
    /// A date and time `JJ/MM/AAAA HH:MM`.
    DateTime,
    /// A non-negative decimal number, `.` or `,` as separator.
    Number,
    /// A non-negative decimal number with at most 3 significant decimals (QUOTITE).
    Fraction,
}

impl fmt::Display for ExpectedForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExpectedForm::Date => "date attendue au format JJ/MM/AAAA",
            ExpectedForm::DateTime => "date et heure attendues au format JJ/MM/AAAA HH:MM",
            ExpectedForm::Number => "nombre attendu, par exemple 0,25",
            ExpectedForm::Fraction => "nombre d'au plus 3 décimales attendu, par exemple 0,85",
        })
    }
}

/// Why a value was refused.
///
/// The message names the expected form but not the field: the caller prefixes the column
/// name (« DATENAISSANCE : date attendue au format JJ/MM/AAAA »).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    /// The text does not have the expected form (or is not a real date).
    #[error("{0}")]
    Format(ExpectedForm),
    /// The number is well formed but too large to be represented.
    #[error("valeur hors bornes : nombre trop grand")]
    OutOfRange,
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// Reads a run of ASCII digits as a number; `None` if any byte is not a digit.
///
/// Only used on runs of at most 4 bytes, so the `u32` cannot overflow.
fn read_digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Parses the 10 bytes `JJ/MM/AAAA` into a real calendar date.
///
/// Works on bytes so that a non-ASCII character can never be sliced through: its bytes are
/// neither digits nor `/` and are refused as such.
fn date_from_bytes(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    let day = read_digits(&b[0..2])?;
    let month = read_digits(&b[3..5])?;
    let year = read_digits(&b[6..10])?;
    // Year 0000 does not exist in the calendar people write (1 BC is followed by AD 1),
    // although chrono's proleptic calendar would accept it.
    if year == 0 {
        return None;
    }
    // `from_ymd_opt` refuses day 0, month 0 or 13, 31/04 and 29/02 outside leap years.
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses a date written strictly `JJ/MM/AAAA` (two-digit day and month, four-digit year)
/// that exists in the calendar (29/02 only in leap years). No trimming.
pub fn parse_date(s: &str) -> Result<NaiveDate, ValueError> {
    date_from_bytes(s.as_bytes()).ok_or(ValueError::Format(ExpectedForm::Date))
}

/// Formats a date as `JJ/MM/AAAA`, the form [`parse_date`] reads back (for years 1 to 9999).
pub fn format_date(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// Parses a date-time written strictly `JJ/MM/AAAA HH:MM` (one space, hours 00–23, minutes
/// 00–59), local time as written. No trimming.
pub fn parse_datetime(s: &str) -> Result<NaiveDateTime, ValueError> {
    let err = ValueError::Format(ExpectedForm::DateTime);
    let b = s.as_bytes();
    if b.len() != 16 || b[10] != b' ' || b[13] != b':' {
        return Err(err);
    }
    let date = date_from_bytes(&b[..10]).ok_or_else(|| err.clone())?;
    let hour = read_digits(&b[11..13]).ok_or_else(|| err.clone())?;
    let minute = read_digits(&b[14..16]).ok_or_else(|| err.clone())?;
    // `from_hms_opt` refuses hour 24 and minute 60.
    let time = NaiveTime::from_hms_opt(hour, minute, 0).ok_or(err)?;
    Ok(date.and_time(time))
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/// A dose converted to whole microsieverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DoseUsv {
    /// The dose in µSv, rounded to the nearest µSv, half away from zero.
    pub usv: i64,
    /// True when non-zero digits beyond the µSv were dropped (warning `VALEUR_ARRONDIE`).
    pub rounded: bool,
}

/// Splits a number of the form `^[0-9]+([.,][0-9]+)?$` into its integer digits and its
/// decimal digits (empty without a separator). `None` for any other text.
fn split_number(s: &str) -> Option<(&[u8], &[u8])> {
    let b = s.as_bytes();
    let (int, frac) = match b.iter().position(|c| matches!(c, b'.' | b',')) {
        Some(i) => {
            let frac = b.get(i + 1..)?;
            // A separator must be followed by at least one digit ("1," is refused).
            if frac.is_empty() {
                return None;
            }
            (b.get(..i)?, frac)
        }
        None => (b, &b[..0]),
    };
    // The digit checks also refuse a second separator, signs, spaces, exponents and every
    // non-ASCII byte (so full-width or Arabic-Indic digits too).
    let all_digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    (!int.is_empty() && all_digits(int) && all_digits(frac)).then_some((int, frac))
}

/// The number's value in thousandths, truncated, and the decimal digits beyond the third.
///
/// Exact integer arithmetic on the digits (no floating point, so 0.1 is exactly 100). `None`
/// when the value exceeds `i64`; checked arithmetic stops at the first overflowing digit, so a
/// string of thousands of digits costs no more than a scan.
fn thousandths<'a>(int: &[u8], frac: &'a [u8]) -> Option<(i64, &'a [u8])> {
    let mut value: i64 = 0;
    for d in int {
        value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    let (kept, dropped) = frac.split_at(frac.len().min(3));
    // Pad the kept decimals to exactly three: "0,5" is 500 thousandths.
    for i in 0..3 {
        let d = kept.get(i).map_or(0, |d| i64::from(d - b'0'));
        value = value.checked_mul(10)?.checked_add(d)?;
    }
    Some((value, dropped))
}

/// Parses a dose in mSv (`^[0-9]+([.,][0-9]+)?$`, leading zeros allowed) into whole µSv.
///
/// Rounding is to the nearest µSv, half away from zero: as values are non-negative, the dose
/// goes up when the fourth decimal is 5 or more. `rounded` tells whether a non-zero digit was
/// dropped; dropping trailing zeros ("3,100" or "1,0000") is not rounding.
///
/// Errors: [`ValueError::Format`] for any other text, [`ValueError::OutOfRange`] when the µSv
/// value does not fit in an `i64`.
pub fn parse_dose_msv(s: &str) -> Result<DoseUsv, ValueError> {
    let (int, frac) = split_number(s).ok_or(ValueError::Format(ExpectedForm::Number))?;
    let (usv, dropped) = thousandths(int, frac).ok_or(ValueError::OutOfRange)?;
    let rounded = dropped.iter().any(|d| *d != b'0');
    let usv = if dropped.first().is_some_and(|d| *d >= b'5') {
        usv.checked_add(1).ok_or(ValueError::OutOfRange)?
    } else {
        usv
    };
    Ok(DoseUsv { usv, rounded })
}

/// Parses a fraction such as QUOTITE into thousandths ("0,85" → 850, "1.0" → 1000).
///
/// Same syntax as [`parse_dose_msv`]; more than three significant decimals is a
/// [`ValueError::Format`] (no silent rounding of a work-time ratio), trailing zeros are fine.
/// A value beyond `u32` thousandths is [`ValueError::OutOfRange`]. The 0.1…1.0 bound is the
/// caller's check.
pub fn parse_fraction_thousandths(s: &str) -> Result<u32, ValueError> {
    let form = ValueError::Format(ExpectedForm::Fraction);
    let (int, frac) = split_number(s).ok_or_else(|| form.clone())?;
    if frac.iter().skip(3).any(|d| *d != b'0') {
        return Err(form);
    }
    let (value, _) = thousandths(int, frac).ok_or(ValueError::OutOfRange)?;
    u32::try_from(value).map_err(|_| ValueError::OutOfRange)
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// Normalises a surname or first name for comparison (exchange.md §1).
///
/// Upper case, Unicode NFD with combining marks removed, Œ→OE, Æ→AE, ß/ẞ→SS, Ø→O, Ł→L
/// (and their lower-case forms), apostrophes (`'`, `’`) and hyphens turned into spaces, any
/// whitespace treated as a space, runs of spaces folded into one, and the result trimmed.
/// "Gaëlle-Marie  d’Aboville" → "GAELLE MARIE D ABOVILLE". Idempotent.
pub fn normalize_name(s: &str) -> String {
    // Upper-casing first lets the mapping below see only capitals: œ, æ, ø, ł become Œ, Æ,
    // Ø, Ł and ß becomes "SS". Marks are stripped after upper-casing because upper-casing can
    // itself produce combining marks ('ǰ' → "J\u{30C}").
    let upper = s.to_uppercase();
    let mut out = String::with_capacity(upper.len());
    let mut pending_space = false;
    for c in upper.nfd().filter(|c| !is_combining_mark(*c)) {
        // Letters that NFD does not decompose (a stroke or ligature is not a combining mark).
        let replacement: &str = match c {
            'Œ' => "OE",
            'Æ' => "AE",
            'ẞ' => "SS",
            'Ø' => "O",
            'Ł' => "L",
            '\'' | '’' | '-' => " ",
            // Tabs and no-break spaces pasted from documents count as spaces too.
            c if c.is_whitespace() => " ",
            c => {
                push_folded(&mut out, &mut pending_space, c);
                continue;
            }
        };
        for r in replacement.chars() {
            push_folded(&mut out, &mut pending_space, r);
        }
    }
    out
}

/// Appends `c`, folding spaces: a space is only written once a non-space follows it, so runs
/// collapse and no space leads or trails.
fn push_folded(out: &mut String, pending_space: &mut bool, c: char) {
    if c == ' ' {
        *pending_space = !out.is_empty();
    } else {
        if *pending_space {
            out.push(' ');
            *pending_space = false;
        }
        out.push(c);
    }
}

/// Maximum length of NOM and PRENOM, in characters of the raw value (exchange.md §2: the
/// SISERI 2 template's limit since its v0.9.1).
pub const NAME_MAX_CHARS: usize = 100;

/// True when `s` is an acceptable NOM or PRENOM: 1 to 100 characters (not bytes) made of
/// letters (Unicode alphabetic, accented letters included), spaces, hyphens and apostrophes
/// (`'` or `’`), with at least one letter.
///
/// A combining mark is accepted right after a letter (or another mark), so that a name sent
/// in decomposed form (NFD, as some systems write "e" + U+0301) is valid like its composed
/// form; it counts as a character for the length.
pub fn is_valid_name(s: &str) -> bool {
    let mut count = 0;
    let mut has_letter = false;
    let mut after_letter = false;
    for c in s.chars() {
        count += 1;
        // Stop early: a huge string is refused without scanning it all.
        if count > NAME_MAX_CHARS {
            return false;
        }
        if c.is_alphabetic() {
            has_letter = true;
            after_letter = true;
        } else if is_combining_mark(c) {
            if !after_letter {
                return false;
            }
        } else if matches!(c, ' ' | '-' | '\'' | '’') {
            after_letter = false;
        } else {
            return false;
        }
    }
    has_letter
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn dose(usv: i64, rounded: bool) -> Result<DoseUsv, ValueError> {
        Ok(DoseUsv { usv, rounded })
    }

    const DATE_ERR: ValueError = ValueError::Format(ExpectedForm::Date);
    const DATETIME_ERR: ValueError = ValueError::Format(ExpectedForm::DateTime);
    const NUMBER_ERR: ValueError = ValueError::Format(ExpectedForm::Number);
    const FRACTION_ERR: ValueError = ValueError::Format(ExpectedForm::Fraction);

    // ---- dates

    #[test]
    fn dates_valid() {
        assert_eq!(parse_date("01/01/2025"), Ok(ymd(2025, 1, 1)));
        assert_eq!(parse_date("31/12/1999"), Ok(ymd(1999, 12, 31)));
        assert_eq!(parse_date("29/02/2024"), Ok(ymd(2024, 2, 29)));
        assert_eq!(parse_date("29/02/2000"), Ok(ymd(2000, 2, 29)));
        assert_eq!(parse_date("28/02/2023"), Ok(ymd(2023, 2, 28)));
        assert_eq!(parse_date("30/04/2025"), Ok(ymd(2025, 4, 30)));
        assert_eq!(parse_date("01/01/0001"), Ok(ymd(1, 1, 1)));
        assert_eq!(parse_date("31/12/9999"), Ok(ymd(9999, 12, 31)));
    }

    #[test]
    fn dates_invalid() {
        for s in [
            "31/04/2025",
            "29/02/2023",
            "29/02/1900",
            "1/1/2025",
            "01/1/2025",
            "2025-01-01",
            "01/01/25",
            "01-01-2025",
            "01.01.2025",
            "00/01/2025",
            "01/00/2025",
            "32/01/2025",
            "01/13/2025",
            "99/99/9999",
            "01/01/0000",
            "01/01/20255",
            " 01/01/2025",
            "01/01/2025 ",
            "01/01/2025 10:00",
            "",
            "+1/01/2025",
            "-1/01/2025",
            "0a/01/2025",
            "０1/01/2025",
            "01/01/20é",  // 10 bytes, non-ASCII at the end
            "é1/01/2025", // non-ASCII across the first slot
            "01/01/2025\0",
        ] {
            assert_eq!(parse_date(s), Err(DATE_ERR), "{s:?}");
        }
    }

    #[test]
    fn dates_format() {
        assert_eq!(format_date(ymd(2025, 3, 5)), "05/03/2025");
        assert_eq!(format_date(ymd(987, 12, 31)), "31/12/0987");
        assert_eq!(format_date(ymd(2024, 2, 29)), "29/02/2024");
        assert_eq!(parse_date(&format_date(ymd(1, 1, 1))), Ok(ymd(1, 1, 1)));
    }

    #[test]
    fn datetimes() {
        let dt = |y, mo, d, h, mi| ymd(y, mo, d).and_hms_opt(h, mi, 0).unwrap();
        assert_eq!(parse_datetime("01/01/2025 00:00"), Ok(dt(2025, 1, 1, 0, 0)));
        assert_eq!(
            parse_datetime("31/12/2025 23:59"),
            Ok(dt(2025, 12, 31, 23, 59))
        );
        assert_eq!(
            parse_datetime("29/02/2024 12:30"),
            Ok(dt(2024, 2, 29, 12, 30))
        );
        for s in [
            "01/01/2025 24:00",
            "01/01/2025 12:60",
            "01/01/2025 99:99",
            "01/01/2025  12:00",
            "01/01/2025T12:00",
            "01/01/2025\t12:00",
            "01/01/2025 12:00:00",
            "01/01/2025 1:00",
            "01/01/2025 12h00",
            "01/01/2025",
            "31/04/2025 10:00",
            "29/02/2023 10:00",
            "1/1/2025 10:00",
            "2025-01-01 10:00",
            "01/01/2025 ab:cd",
            "01/01/2025 -1:00",
            "01/01/202é12:00", // 16 bytes, byte 10 inside 'é'
            "01/01/2025 1２:00",
            "",
        ] {
            assert_eq!(parse_datetime(s), Err(DATETIME_ERR), "{s:?}");
        }
    }

    // ---- doses

    #[test]
    fn dose_examples() {
        assert_eq!(parse_dose_msv("0,25"), dose(250, false));
        assert_eq!(parse_dose_msv("0.25"), dose(250, false));
        assert_eq!(parse_dose_msv("1.0004"), dose(1000, true));
        assert_eq!(parse_dose_msv("1.0005"), dose(1001, true));
        assert_eq!(parse_dose_msv("0.0004"), dose(0, true));
        assert_eq!(parse_dose_msv("12"), dose(12_000, false));
        assert_eq!(parse_dose_msv("3,100"), dose(3100, false));
    }

    #[test]
    fn dose_more_cases() {
        assert_eq!(parse_dose_msv("0"), dose(0, false));
        assert_eq!(parse_dose_msv("0,0"), dose(0, false));
        assert_eq!(parse_dose_msv("000012,5"), dose(12_500, false));
        assert_eq!(parse_dose_msv("0,001"), dose(1, false));
        assert_eq!(parse_dose_msv("0,0005"), dose(1, true));
        assert_eq!(parse_dose_msv("0.00049999"), dose(0, true));
        assert_eq!(parse_dose_msv("0.00050000"), dose(1, true));
        assert_eq!(parse_dose_msv("1,0000"), dose(1000, false));
        assert_eq!(parse_dose_msv("1,00000000"), dose(1000, false));
        assert_eq!(parse_dose_msv("1,00000001"), dose(1000, true));
        assert_eq!(parse_dose_msv("2.9999"), dose(3000, true));
        assert_eq!(parse_dose_msv("0.9995"), dose(1000, true));
        assert_eq!(parse_dose_msv("0.9994999"), dose(999, true));
        assert_eq!(parse_dose_msv("100000"), dose(100_000_000, false));
        assert_eq!(parse_dose_msv("007"), dose(7000, false));
    }

    #[test]
    fn dose_format_errors() {
        for s in [
            "",
            "1,",
            ",5",
            ".5",
            "-1",
            "+1",
            "1e3",
            "1E3",
            "1 000",
            "1.2.3",
            "1,2,3",
            "1.,2",
            "1,.2",
            ".",
            ",",
            " 1",
            "1 ",
            "1\u{a0}000",
            "0x10",
            "NaN",
            "inf",
            "1_000",
            "1'000",
            "１",
            "١",
            "1,５",
            "é",
            "1é",
            "--",
            "1;2",
        ] {
            assert_eq!(parse_dose_msv(s), Err(NUMBER_ERR), "{s:?}");
        }
        assert_eq!(NUMBER_ERR.to_string(), "nombre attendu, par exemple 0,25");
    }

    #[test]
    fn dose_limits() {
        // i64::MAX µSv = 9 223 372 036 854 775.807 mSv.
        assert_eq!(
            parse_dose_msv("9223372036854775.807"),
            dose(i64::MAX, false)
        );
        assert_eq!(
            parse_dose_msv("9223372036854775,8069"),
            dose(i64::MAX, true)
        );
        assert_eq!(
            parse_dose_msv("9223372036854775.8075"),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(
            parse_dose_msv("9223372036854775.808"),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(
            parse_dose_msv("9223372036854776"),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(
            parse_dose_msv("00000009223372036854775.807"),
            dose(i64::MAX, false)
        );
    }

    #[test]
    fn dose_huge_strings() {
        let nines = "9".repeat(10_000);
        assert_eq!(parse_dose_msv(&nines), Err(ValueError::OutOfRange));
        assert_eq!(
            parse_dose_msv(&format!("{nines},5")),
            Err(ValueError::OutOfRange)
        );
        let zeros = "0".repeat(10_000);
        assert_eq!(parse_dose_msv(&format!("{zeros}1")), dose(1000, false));
        assert_eq!(parse_dose_msv(&format!("1,{zeros}")), dose(1000, false));
        assert_eq!(parse_dose_msv(&format!("0,{zeros}1")), dose(0, true));
        assert_eq!(parse_dose_msv(&format!("0,{nines}")), dose(1000, true));
        assert_eq!(
            parse_dose_msv(&format!("{nines}x")),
            Err(NUMBER_ERR),
            "format is checked before the range"
        );
        assert_eq!(parse_dose_msv(&"é".repeat(10_000)), Err(NUMBER_ERR));
    }

    // ---- fractions

    #[test]
    fn fractions() {
        assert_eq!(parse_fraction_thousandths("0.1"), Ok(100));
        assert_eq!(parse_fraction_thousandths("0,1"), Ok(100));
        assert_eq!(parse_fraction_thousandths("1.0"), Ok(1000));
        assert_eq!(parse_fraction_thousandths("1"), Ok(1000));
        assert_eq!(parse_fraction_thousandths("0,85"), Ok(850));
        assert_eq!(parse_fraction_thousandths("0,125"), Ok(125));
        assert_eq!(parse_fraction_thousandths("0,8500"), Ok(850));
        assert_eq!(parse_fraction_thousandths("0,5000000"), Ok(500));
        assert_eq!(parse_fraction_thousandths("0"), Ok(0));
        assert_eq!(parse_fraction_thousandths("10"), Ok(10_000));
        assert_eq!(parse_fraction_thousandths("00,5"), Ok(500));
        assert_eq!(parse_fraction_thousandths("4294967.295"), Ok(u32::MAX));
        for s in ["0,8505", "0,0001", "0,1234", "1,0001"] {
            assert_eq!(parse_fraction_thousandths(s), Err(FRACTION_ERR), "{s}");
        }
        for s in ["", "1,", ",5", "-0,5", "0.5.", "50%", "0,5 ", "½", "1e0"] {
            assert_eq!(parse_fraction_thousandths(s), Err(FRACTION_ERR), "{s:?}");
        }
        assert_eq!(
            parse_fraction_thousandths("4294967.296"),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(
            parse_fraction_thousandths(&"9".repeat(10_000)),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(
            FRACTION_ERR.to_string(),
            "nombre d'au plus 3 décimales attendu, par exemple 0,85"
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(DATE_ERR.to_string(), "date attendue au format JJ/MM/AAAA");
        assert_eq!(
            DATETIME_ERR.to_string(),
            "date et heure attendues au format JJ/MM/AAAA HH:MM"
        );
        assert_eq!(
            ValueError::OutOfRange.to_string(),
            "valeur hors bornes : nombre trop grand"
        );
    }

    // ---- names

    #[test]
    fn normalize_examples() {
        let cases = [
            ("Gaëlle-Marie  d’Aboville", "GAELLE MARIE D ABOVILLE"),
            ("Œuvray", "OEUVRAY"),
            ("œuvray", "OEUVRAY"),
            ("Strauß", "STRAUSS"),
            ("STRAUẞ", "STRAUSS"),
            ("Łukasz", "LUKASZ"),
            ("łódź", "LODZ"),
            ("Ørsted", "ORSTED"),
            ("øre", "ORE"),
            ("Æsa", "AESA"),
            ("læti", "LAETI"),
            ("O'Brien", "O BRIEN"),
            ("  jean--pierre  ", "JEAN PIERRE"),
            ("Jean\t\u{a0}Pierre", "JEAN PIERRE"),
            ("Gae\u{308}lle", "GAELLE"), // already decomposed
            ("ÇÀ ÉÈÊËÎÏÔÛÙÜŸ", "CA EEEEIIOUUUY"),
            ("Ñúñez", "NUNEZ"),
            ("Dvořák", "DVORAK"),
            ("-'’ ", ""),
            ("", ""),
            ("D'", "D"),
            ("jean", "JEAN"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_name(input), expected, "{input:?}");
        }
    }

    #[test]
    fn normalize_every_char() {
        // Exhaustive over single characters: upper-casing and decomposition have rare special
        // cases that random strings would seldom hit.
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let once = normalize_name(&c.to_string());
            let twice = normalize_name(&once);
            assert_eq!(once, twice, "U+{:04X}", u32::from(c));
            for o in once.chars() {
                assert!(!is_combining_mark(o), "U+{:04X}", u32::from(c));
                assert!(
                    o.to_string().nfd().eq(std::iter::once(o)),
                    "U+{:04X}",
                    u32::from(c)
                );
                assert!(o == ' ' || !o.is_whitespace(), "U+{:04X}", u32::from(c));
            }
        }
    }

    #[test]
    fn names_valid() {
        for s in [
            "Gaëlle-Marie d’Aboville",
            "O'Brien",
            "Łukasz",
            "Strauß",
            "Иван",
            "李",
            "Gae\u{308}lle",
            "a",
            "-a-",
            "A  B",
        ] {
            assert!(is_valid_name(s), "{s:?}");
        }
        assert!(is_valid_name(&"a".repeat(100)));
        assert!(is_valid_name(&"é".repeat(100)), "100 chars, 200 bytes");
    }

    #[test]
    fn names_invalid() {
        for s in [
            "",
            " ",
            "-",
            "'",
            "’",
            "- '",
            "Jean2",
            "Jean.Pierre",
            "Jean_Pierre",
            "Jean\tPierre",
            "Jean,",
            "Jean\u{a0}Pierre",
            "😀",
            "Jean😀",
            "\u{308}a",
            "a \u{308}",
            "a\0",
        ] {
            assert!(!is_valid_name(s), "{s:?}");
        }
        assert!(!is_valid_name(&"a".repeat(101)));
        assert!(!is_valid_name(&"é".repeat(101)));
        assert!(!is_valid_name(&"a".repeat(1_000_000)));
    }

    // ---- property tests

    proptest! {
        #[test]
        fn prop_numbers_never_panic(s in any::<String>()) {
            let _ = parse_dose_msv(&s);
            let _ = parse_fraction_thousandths(&s);
            let _ = parse_date(&s);
            let _ = parse_datetime(&s);
            let _ = is_valid_name(&s);
        }

        #[test]
        fn prop_numbers_never_panic_near_valid(s in "[0-9.,é -]{0,40}") {
            let _ = parse_dose_msv(&s);
            let _ = parse_fraction_thousandths(&s);
            let _ = parse_date(&s);
            let _ = parse_datetime(&s);
        }

        #[test]
        fn prop_dose_micro_round_trip(n in 0..=i64::MAX, dot in any::<bool>()) {
            let sep = if dot { '.' } else { ',' };
            let text = format!("{}{sep}{:03}", n / 1000, n % 1000);
            prop_assert_eq!(parse_dose_msv(&text), dose(n, false));
            // Trailing zeros change nothing.
            prop_assert_eq!(parse_dose_msv(&format!("{text}000")), dose(n, false));
        }

        #[test]
        fn prop_dose_fourth_decimal(n in 0..i64::MAX, d in 0u8..=9) {
            let text = format!("{},{:03}{d}", n / 1000, n % 1000);
            let expected = if d >= 5 { n + 1 } else { n };
            prop_assert_eq!(parse_dose_msv(&text), dose(expected, d != 0));
        }

        #[test]
        fn prop_dose_matches_reference(int in "[0-9]{1,15}", frac in proptest::option::of("[0-9]{1,10}")) {
            // Reference computed with u128 on the whole scaled value.
            let text = match &frac {
                Some(f) => format!("{int}.{f}"),
                None => int.clone(),
            };
            let f = frac.unwrap_or_default();
            let scale = 10u128.pow(u32::try_from(f.len()).unwrap());
            let num: u128 = format!("{int}{f}").parse().unwrap();
            let scaled = num * 1000;
            let q = scaled / scale;
            let r = scaled % scale;
            let expected = if 2 * r >= scale { q + 1 } else { q };
            let got = parse_dose_msv(&text).unwrap();
            prop_assert_eq!(u128::try_from(got.usv).unwrap(), expected);
            prop_assert_eq!(got.rounded, r != 0);
        }

        #[test]
        fn prop_fraction_round_trip(n in any::<u32>()) {
            let text = format!("{},{:03}", n / 1000, n % 1000);
            prop_assert_eq!(parse_fraction_thousandths(&text), Ok(n));
            prop_assert_eq!(parse_fraction_thousandths(&format!("{text}0")), Ok(n));
            prop_assert_eq!(parse_fraction_thousandths(&format!("{text}1")), Err(FRACTION_ERR));
        }

        #[test]
        fn prop_date_round_trip(days in 0i64..3_652_059) {
            // Every day from 01/01/0001 to 31/12/9999.
            let date = ymd(1, 1, 1) + chrono::Duration::days(days);
            let text = format_date(date);
            prop_assert_eq!(text.len(), 10);
            prop_assert_eq!(parse_date(&text), Ok(date));
        }

        #[test]
        fn prop_datetime_round_trip(days in 0i64..3_652_059, h in 0u32..24, m in 0u32..60) {
            let date = ymd(1, 1, 1) + chrono::Duration::days(days);
            let text = format!("{} {h:02}:{m:02}", format_date(date));
            prop_assert_eq!(parse_datetime(&text), Ok(date.and_hms_opt(h, m, 0).unwrap()));
        }

        #[test]
        fn prop_normalize_idempotent(s in any::<String>()) {
            let once = normalize_name(&s);
            prop_assert_eq!(normalize_name(&once), once);
        }

        #[test]
        fn prop_normalize_output_alphabet(s in any::<String>()) {
            let out = normalize_name(&s);
            prop_assert!(!out.starts_with(' ') && !out.ends_with(' ') && !out.contains("  "));
            for c in out.chars() {
                prop_assert!(!is_combining_mark(c), "mark U+{:04X}", u32::from(c));
                prop_assert!(!matches!(c, '\'' | '’' | '-' | 'Œ' | 'Æ' | 'Ø' | 'Ł' | 'ß' | 'ẞ'));
                prop_assert!(c == ' ' || !c.is_whitespace());
                // No character left that NFD would still decompose.
                prop_assert!(c.to_string().nfd().eq(std::iter::once(c)), "U+{:04X}", u32::from(c));
            }
        }

        #[test]
        fn prop_normalize_ascii(s in "[ -~\t]{0,60}") {
            let out = normalize_name(&s);
            prop_assert!(!out.starts_with(' ') && !out.ends_with(' ') && !out.contains("  "));
            for c in out.chars() {
                prop_assert!(c.is_ascii() && !c.is_ascii_lowercase() && !matches!(c, '\'' | '-' | '\t'));
            }
            // For names made of letters, spaces, hyphens and apostrophes: only A–Z and spaces.
            let letters: String = s.chars().filter(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | '-' | '\'')).collect();
            prop_assert!(normalize_name(&letters).chars().all(|c| c.is_ascii_uppercase() || c == ' '));
        }

        #[test]
        fn prop_normalize_latin1_names(s in "[a-zA-ZÀ-ÖØ-öø-ÿŒœŁłß’' -]{0,40}") {
            // Letters of French and neighbouring languages come out as A–Z only.
            let out = normalize_name(&s);
            prop_assert!(out.chars().all(|c| c.is_ascii_uppercase() || c == ' ' || matches!(c, 'Ð' | 'Þ')), "{out:?}");
        }

        #[test]
        fn prop_valid_name_alphabet(s in "[a-zA-Zéèêëçàâîïôûüÿ' ’-]{0,120}") {
            let has_letter = s.chars().any(char::is_alphabetic);
            let n = s.chars().count();
            prop_assert_eq!(is_valid_name(&s), has_letter && (1..=100).contains(&n));
        }
    }
}
