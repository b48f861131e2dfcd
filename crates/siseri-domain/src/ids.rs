//! Identifiers of people and organisations: NIR/NIA (with its key), SIRET, SIREN and RPPS.
//!
//! Each identifier is a newtype that can only be built by parsing, so that a value of one of
//! these types is always well formed and its check digits are right (domain.md §2.2, §2.3,
//! exchange.md §5, Appendix A). Parsing never trims and never panics: callers trim the raw
//! field first, as exchange.md §1 prescribes for every value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an identifier was refused.
///
/// The messages are the French texts of the execution report: they name the field and the
/// expected form, never the value that was sent. [`IdError::code`] gives the report's code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// The NIR is not 13 characters of the expected layout.
    #[error(
        "NIR : 13 caractères attendus, chiffre initial 1, 2, 3, 4, 7 ou 8, département 2A/2B admis"
    )]
    NirFormat,
    /// The NIR key is well formed but wrong; `expected` is the right key (1..=97).
    #[error("CLE : la clé du NIR devrait être {expected:02}")]
    NirKey {
        /// The key computed from the NIR.
        expected: u8,
    },
    /// The NIR key is not exactly two digits.
    #[error("CLE : 2 chiffres attendus")]
    NirKeyFormat,
    /// The SIRET is not 14 digits.
    #[error("SIRET : 14 chiffres attendus")]
    SiretFormat,
    /// The SIRET's check digits are wrong.
    #[error("SIRET : clé de contrôle invalide")]
    SiretKey,
    /// The SIREN is not 9 digits.
    #[error("SIREN : 9 chiffres attendus")]
    SirenFormat,
    /// The SIREN's check digit is wrong.
    #[error("SIREN : clé de contrôle invalide")]
    SirenKey,
    /// The RPPS number is not 11 digits.
    #[error("RPPS : 11 chiffres attendus")]
    RppsFormat,
    /// The RPPS number's check digit is wrong.
    #[error("RPPS : clé de contrôle invalide")]
    RppsKey,
}

impl IdError {
    /// The exchange error code of this error (exchange.md §6).
    ///
    /// A malformed key and a wrong key are both `NIR_CLE` (exchange.md §2, column CLE); the
    /// exchange formats carry no SIREN column of their own, so SIREN errors use the SIRET codes.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::NirFormat => "NIR_FORMAT",
            IdError::NirKey { .. } | IdError::NirKeyFormat => "NIR_CLE",
            IdError::SiretFormat | IdError::SirenFormat => "SIRET_FORMAT",
            IdError::SiretKey | IdError::SirenKey => "SIRET_CLE",
            IdError::RppsFormat => "RPPS_FORMAT",
            IdError::RppsKey => "RPPS_CLE",
        }
    }
}

/// True when `s` is exactly `len` ASCII digits.
///
/// Works on bytes: every byte of a non-ASCII character is ≥ 0x80, so multi-byte characters
/// (accented letters, full-width digits) are refused without any char-boundary slicing.
fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Luhn sum of ASCII digits: every second digit from the right is doubled, minus 9 when the
/// double exceeds 9. The number is valid when the sum is a multiple of 10.
///
/// Callers pass only ASCII digits; any other byte would give a meaningless but harmless sum.
fn luhn_sum(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.wrapping_sub(b'0'));
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum()
}

/// True when the ASCII digits pass the Luhn check.
fn luhn_valid(digits: &[u8]) -> bool {
    luhn_sum(digits).is_multiple_of(10)
}

// ---------------------------------------------------------------------------------------------
// NIR
// ---------------------------------------------------------------------------------------------

/// A NIR (social security number) or NIA (temporary number) without its key: 13 characters,
/// stored in canonical upper case (`2A`/`2B` for Corsica).
///
/// Layout `S YY MM DD CCC OOO`; the month is not checked because administrative months above
/// 12 exist (exchange.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nir(String);

impl Nir {
    /// Parses the 13-character NIR/NIA without key (no trimming).
    ///
    /// Accepts `^[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}$`, the letters in any case.
    pub fn parse(s: &str) -> Result<Nir, IdError> {
        let b = s.as_bytes();
        // Checked on bytes: each position must hold an ASCII digit or letter, so a non-ASCII
        // character (whose bytes are all >= 0x80) fails without any char-boundary slicing.
        if b.len() != 13 {
            return Err(IdError::NirFormat);
        }
        let first_ok = matches!(b[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8');
        let year_month_ok = b[1..5].iter().all(u8::is_ascii_digit);
        let dept_ok = b[5..7].iter().all(u8::is_ascii_digit)
            || (b[5] == b'2' && matches!(b[6], b'A' | b'a' | b'B' | b'b'));
        let rest_ok = b[7..13].iter().all(u8::is_ascii_digit);
        if first_ok && year_month_ok && dept_ok && rest_ok {
            Ok(Nir(s.to_ascii_uppercase()))
        } else {
            Err(IdError::NirFormat)
        }
    }

    /// Parses a 15-character NIR followed by its 2-digit key, checking the key.
    ///
    /// The first 13 characters must be a NIR ([`IdError::NirFormat`] otherwise); whatever
    /// follows is the key, checked as by [`Nir::check_key`].
    pub fn parse_with_key(s: &str) -> Result<Nir, IdError> {
        // Split at the 14th character's offset rather than at byte 13, so that non-ASCII
        // input cannot make us slice inside a character; the end of the string is appended
        // so that exactly 13 characters split into the NIR and an empty (malformed) key.
        let split = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .nth(13)
            .ok_or(IdError::NirFormat)?;
        let (nir, key) = s.split_at(split);
        let nir = Nir::parse(nir)?;
        nir.check_key(key)?;
        Ok(nir)
    }

    /// The 13 characters, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key KK = 97 − (N mod 97), N being the NIR read as a number with `2A` → 19 and
    /// `2B` → 18. Always in 1..=97.
    pub fn key(&self) -> u8 {
        let mut digits = [b'0'; 13];
        for (d, c) in digits.iter_mut().zip(self.0.bytes()) {
            *d = c;
        }
        // The key is defined on digits only: Corsica's letters are replaced as in Appendix A.
        match &digits[5..7] {
            b"2A" => digits[5..7].copy_from_slice(b"19"),
            b"2B" => digits[5..7].copy_from_slice(b"18"),
            _ => {}
        }
        // 13 decimal digits exceed u32, hence u64 (max 9 999 999 999 999 < 2^64).
        let n = digits
            .iter()
            .fold(0u64, |n, c| n * 10 + u64::from(c.wrapping_sub(b'0')));
        // The remainder is below 97, so the key is 1..=97 and fits in u8.
        (97 - n % 97) as u8
    }

    /// Checks the CLE field against this NIR: exactly two ASCII digits
    /// ([`IdError::NirKeyFormat`] otherwise), equal to [`Nir::key`]
    /// ([`IdError::NirKey`] otherwise).
    pub fn check_key(&self, key: &str) -> Result<(), IdError> {
        if !is_digits(key, 2) {
            return Err(IdError::NirKeyFormat);
        }
        let b = key.as_bytes();
        let given = (b[0] - b'0') * 10 + (b[1] - b'0');
        let expected = self.key();
        if given == expected {
            Ok(())
        } else {
            Err(IdError::NirKey { expected })
        }
    }

    /// The leading digit, as a byte.
    fn first(&self) -> u8 {
        self.0.as_bytes().first().copied().unwrap_or(b'0')
    }

    /// True for a temporary number (NIA): first digit 3, 4, 7 or 8.
    pub fn is_temporary(&self) -> bool {
        matches!(self.first(), b'3' | b'4' | b'7' | b'8')
    }

    /// True when the first digit denotes a man (1, 3 or 7).
    pub fn is_male_digit(&self) -> bool {
        matches!(self.first(), b'1' | b'3' | b'7')
    }

    /// True when the first digit denotes a woman (2, 4 or 8).
    pub fn is_female_digit(&self) -> bool {
        matches!(self.first(), b'2' | b'4' | b'8')
    }

    /// The two digits of the year of birth (characters 2–3).
    pub fn birth_year_2digits(&self) -> &str {
        // `get` rather than indexing: the invariant makes it infallible, but no path may panic.
        self.0.get(1..3).unwrap_or_default()
    }

    /// The two digits of the month of birth (characters 4–5), possibly above 12.
    pub fn birth_month_2digits(&self) -> &str {
        self.0.get(3..5).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// SIREN
// ---------------------------------------------------------------------------------------------

/// A SIREN: the 9-digit company number, whose last digit is a Luhn key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siren(String);

impl Siren {
    /// Parses 9 ASCII digits passing the Luhn check (no trimming).
    pub fn parse(s: &str) -> Result<Siren, IdError> {
        if !is_digits(s, 9) {
            return Err(IdError::SirenFormat);
        }
        if !luhn_valid(s.as_bytes()) {
            return Err(IdError::SirenKey);
        }
        Ok(Siren(s.to_owned()))
    }

    /// The 9 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------------
// SIRET
// ---------------------------------------------------------------------------------------------

/// La Poste's SIREN: its establishments follow a different key rule.
const LA_POSTE_SIREN: &str = "356000000";
/// La Poste's head office, which follows the ordinary rule.
const LA_POSTE_HEAD_OFFICE: &str = "35600000000048";

/// A SIRET: the 14-digit establishment number, SIREN (9) + NIC (5).
///
/// Valid when the Luhn sums of the 14 digits and of the SIREN are both multiples of 10, except
/// La Poste's establishments (SIREN 356000000) other than its head office, whose 14 digits must
/// add up to a multiple of 5 (INSEE ran out of Luhn-valid NICs for La Poste's offices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

impl Siret {
    /// Parses 14 ASCII digits with a valid key (no trimming).
    pub fn parse(s: &str) -> Result<Siret, IdError> {
        if !is_digits(s, 14) {
            return Err(IdError::SiretFormat);
        }
        let b = s.as_bytes();
        let valid = if s.starts_with(LA_POSTE_SIREN) && s != LA_POSTE_HEAD_OFFICE {
            let sum: u32 = b.iter().map(|d| u32::from(d - b'0')).sum();
            sum.is_multiple_of(5)
        } else {
            // The head office must pass this rule too: its digit sum (26) is not a multiple
            // of 5.
            luhn_valid(b) && luhn_valid(&b[..9])
        };
        if valid {
            Ok(Siret(s.to_owned()))
        } else {
            Err(IdError::SiretKey)
        }
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The company's SIREN (first 9 digits).
    pub fn siren(&self) -> Siren {
        // Every valid SIRET has a valid SIREN: the ordinary rule checks it, and La Poste's
        // 356000000 passes Luhn. So no re-validation is needed.
        Siren(self.0.get(..9).unwrap_or_default().to_owned())
    }

    /// The establishment's NIC (last 5 digits).
    pub fn nic(&self) -> &str {
        self.0.get(9..).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// RPPS
// ---------------------------------------------------------------------------------------------

/// An RPPS number: the 11-digit national identifier of a health professional, whose Luhn sum
/// is a multiple of 10.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rpps(String);

impl Rpps {
    /// Parses 11 ASCII digits passing the Luhn check (no trimming).
    pub fn parse(s: &str) -> Result<Rpps, IdError> {
        if !is_digits(s, 11) {
            return Err(IdError::RppsFormat);
        }
        if !luhn_valid(s.as_bytes()) {
            return Err(IdError::RppsKey);
        }
        Ok(Rpps(s.to_owned()))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Shared trait implementations
// ---------------------------------------------------------------------------------------------

/// Implements the string conversions shared by every identifier: `Display`, `FromStr`,
/// `AsRef<str>`, and the `String` conversions serde goes through.
macro_rules! string_id {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $t {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $t::parse(s)
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $t {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }

        impl TryFrom<&str> for $t {
            type Error = IdError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $t::parse(s)
            }
        }

        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.0
            }
        }
    };
}

string_id!(Nir);
string_id!(Siren);
string_id!(Siret);
string_id!(Rpps);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    // ---- independent reference implementations (written differently from the code under test)

    /// Luhn validity, textbook form: walk from the right, double odd positions.
    fn ref_luhn(s: &str) -> bool {
        let mut total = 0;
        let mut double = false;
        for c in s.chars().rev() {
            let mut d = c.to_digit(10).unwrap();
            if double {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            total += d;
            double = !double;
        }
        total % 10 == 0
    }

    /// The digit to append to `payload` so that the whole passes Luhn.
    fn luhn_check_digit(payload: &str) -> char {
        (b'0'..=b'9')
            .map(char::from)
            .find(|c| ref_luhn(&format!("{payload}{c}")))
            .unwrap()
    }

    /// NIR key per Appendix A, via string replacement and u64 parsing.
    fn ref_nir_key(n13: &str) -> u8 {
        let mut s = n13.to_uppercase();
        if &s[5..7] == "2A" {
            s.replace_range(5..7, "19");
        } else if &s[5..7] == "2B" {
            s.replace_range(5..7, "18");
        }
        let n: u64 = s.parse().unwrap();
        u8::try_from(97 - n % 97).unwrap()
    }

    fn digit_sum(s: &str) -> u32 {
        s.chars().map(|c| c.to_digit(10).unwrap()).sum()
    }

    fn de<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, DeError> {
        T::deserialize(IntoDeserializer::<DeError>::into_deserializer(s.to_owned()))
    }

    // ---- NIR

    const NIR_VECTORS: [(&str, &str); 4] = [
        ("2951099126111", "93"),
        ("253072B073004", "70"),
        ("253072A073004", "43"),
        ("1850578006084", "91"),
    ];

    #[test]
    fn nir_domain_vectors() {
        for (n, k) in NIR_VECTORS {
            let nir = Nir::parse(n).unwrap();
            assert_eq!(nir.as_str(), n);
            assert_eq!(format!("{:02}", nir.key()), k, "{n}");
            assert_eq!(nir.check_key(k), Ok(()));
            assert_eq!(Nir::parse_with_key(&format!("{n}{k}")), Ok(nir.clone()));
            assert_eq!(nir.key(), ref_nir_key(n));
        }
    }

    #[test]
    fn nir_corsica_letters_any_case_stored_upper() {
        let lower = Nir::parse("253072a073004").unwrap();
        assert_eq!(lower.as_str(), "253072A073004");
        assert_eq!(lower, Nir::parse("253072A073004").unwrap());
        assert_eq!(lower.key(), 43);
        let lower_b = Nir::parse("253072b073004").unwrap();
        assert_eq!(lower_b.as_str(), "253072B073004");
        assert_eq!(lower_b.key(), 70);
        assert_eq!(
            Nir::parse_with_key("253072a07300443").unwrap().as_str(),
            "253072A073004"
        );
    }

    #[test]
    fn nir_first_digit() {
        for d in ['1', '2', '3', '4', '7', '8'] {
            assert!(Nir::parse(&format!("{d}951099126111")).is_ok(), "{d}");
        }
        for d in ['0', '5', '6', '9'] {
            assert_eq!(
                Nir::parse(&format!("{d}951099126111")),
                Err(IdError::NirFormat),
                "{d}"
            );
        }
    }

    #[test]
    fn nir_bad_formats() {
        let bad = [
            "",
            "295109912611",   // 12
            "29510991261111", // 14
            "2951099126111 ", // trailing space: callers trim
            " 2951099126111",
            "A951099126111",
            "2A51099126111",
            "2951X99126111",
            "29510A9126111", // letter in the month
            "2951099126A11",
            "295109912611A",
            "253072C073004", // 2C
            "253073A073004", // 3A
            "25307AA073004",
            "25307A2073004", // letters swapped
            "253072AA73004",
            "2 95 10 99 126 111",
            "2951099126111\0",
            "-951099126111",
            "+951099126111",
        ];
        for s in bad {
            assert_eq!(Nir::parse(s), Err(IdError::NirFormat), "{s:?}");
        }
    }

    #[test]
    fn nir_non_ascii() {
        let bad = [
            "295109912611é",  // 13 chars, 14 bytes
            "29510991261é",   // 12 chars, exactly 13 bytes
            "２951099126111", // full-width digit
            "２９５１０９９１２６１１１",
            "253072Ａ073004", // full-width A
            "2530722\u{301}073004",
            "\u{1F600}\u{1F600}\u{1F600}1",
        ];
        for s in bad {
            assert_eq!(Nir::parse(s), Err(IdError::NirFormat), "{s:?}");
            assert!(Nir::parse_with_key(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn nir_wrong_key() {
        let nir = Nir::parse("253072A073004").unwrap();
        for k in ["42", "44", "00", "97", "99", "70"] {
            assert_eq!(
                nir.check_key(k),
                Err(IdError::NirKey { expected: 43 }),
                "{k}"
            );
        }
        let err = nir.check_key("42").unwrap_err();
        assert_eq!(err.to_string(), "CLE : la clé du NIR devrait être 43");
        assert_eq!(err.code(), "NIR_CLE");
        assert_eq!(
            Nir::parse_with_key("253072A07300442"),
            Err(IdError::NirKey { expected: 43 })
        );
    }

    #[test]
    fn nir_malformed_key() {
        let nir = Nir::parse("2951099126111").unwrap();
        for k in [
            "", "4", "4a", "100", "093", " 93", "93 ", "9 3", "+9", "-9", "９３", "9３", "é", "éé",
            "ab", "3.",
        ] {
            assert_eq!(nir.check_key(k), Err(IdError::NirKeyFormat), "{k:?}");
        }
        assert_eq!(IdError::NirKeyFormat.code(), "NIR_CLE");
        assert_eq!(
            IdError::NirKeyFormat.to_string(),
            "CLE : 2 chiffres attendus"
        );
    }

    #[test]
    fn nir_key_edges() {
        // N divisible by 97 gives the largest key, 97.
        let n = Nir::parse("1850578006175").unwrap();
        assert_eq!(n.key(), 97);
        assert_eq!(n.check_key("97"), Ok(()));
        // Smallest key, 01, and a one-digit key shown with its leading zero.
        let n = Nir::parse("1850578006174").unwrap();
        assert_eq!(n.key(), 1);
        assert_eq!(n.check_key("01"), Ok(()));
        assert_eq!(n.check_key("1"), Err(IdError::NirKeyFormat));
        let n = Nir::parse("1850578006170").unwrap();
        assert_eq!(n.key(), 5);
        assert_eq!(
            n.check_key("50").unwrap_err().to_string(),
            "CLE : la clé du NIR devrait être 05"
        );
        // Largest possible N fits in u64 without overflow.
        let n = Nir::parse("8999999999999").unwrap();
        assert_eq!(n.key(), ref_nir_key("8999999999999"));
        let n = Nir::parse("899992B999999").unwrap();
        assert_eq!(n.key(), ref_nir_key("899992B999999"));
    }

    #[test]
    fn nir_parse_with_key_lengths() {
        assert_eq!(Nir::parse_with_key(""), Err(IdError::NirFormat));
        assert_eq!(Nir::parse_with_key("295109912611"), Err(IdError::NirFormat));
        // Exactly the 13 characters: the key is missing.
        assert_eq!(
            Nir::parse_with_key("2951099126111"),
            Err(IdError::NirKeyFormat)
        );
        assert_eq!(
            Nir::parse_with_key("29510991261119"),
            Err(IdError::NirKeyFormat)
        );
        assert_eq!(
            Nir::parse_with_key("2951099126111930"),
            Err(IdError::NirKeyFormat)
        );
        assert_eq!(
            Nir::parse_with_key("2951099126111é3"),
            Err(IdError::NirKeyFormat)
        );
        assert_eq!(
            Nir::parse_with_key("595109912611193"),
            Err(IdError::NirFormat)
        );
        assert_eq!(
            Nir::parse_with_key("2951099126111 93"),
            Err(IdError::NirKeyFormat)
        );
    }

    #[test]
    fn nir_helpers() {
        let cases = [
            ('1', false, true, false),
            ('2', false, false, true),
            ('3', true, true, false),
            ('4', true, false, true),
            ('7', true, true, false),
            ('8', true, false, true),
        ];
        for (d, temp, male, female) in cases {
            let n = Nir::parse(&format!("{d}951099126111")).unwrap();
            assert_eq!(n.is_temporary(), temp, "{d}");
            assert_eq!(n.is_male_digit(), male, "{d}");
            assert_eq!(n.is_female_digit(), female, "{d}");
        }
        let n = Nir::parse("2951099126111").unwrap();
        assert_eq!(n.birth_year_2digits(), "95");
        assert_eq!(n.birth_month_2digits(), "10");
        // Administrative months above 12 are accepted.
        let n = Nir::parse("1854278006084").unwrap();
        assert_eq!(n.birth_month_2digits(), "42");
        assert_eq!(n.birth_year_2digits(), "85");
    }

    #[test]
    fn nir_traits() {
        let n: Nir = "253072a073004".parse().unwrap();
        assert_eq!(n.to_string(), "253072A073004");
        assert_eq!(n.as_ref(), "253072A073004");
        assert_eq!(String::from(n.clone()), "253072A073004");
        assert_eq!(Nir::try_from("253072A073004"), Ok(n.clone()));
        assert_eq!(Nir::try_from(String::from("x")), Err(IdError::NirFormat));
        assert_eq!("5".parse::<Nir>(), Err(IdError::NirFormat));
        assert!(Nir::parse("1850578006084").unwrap() < n);
        let mut set = std::collections::HashSet::new();
        set.insert(n.clone());
        assert!(set.contains(&Nir::parse("253072A073004").unwrap()));
    }

    #[test]
    fn nir_serde() {
        let n: Nir = de("253072b073004").unwrap();
        assert_eq!(n.as_str(), "253072B073004");
        let err = de::<Nir>("253072C073004").unwrap_err();
        assert!(
            err.to_string().contains("NIR : 13 caractères attendus"),
            "{err}"
        );
    }

    #[test]
    fn error_messages_and_codes() {
        let cases = [
            (
                IdError::NirFormat,
                "NIR_FORMAT",
                "NIR : 13 caractères attendus, chiffre initial 1, 2, 3, 4, 7 ou 8, \
                 département 2A/2B admis",
            ),
            (
                IdError::NirKey { expected: 43 },
                "NIR_CLE",
                "CLE : la clé du NIR devrait être 43",
            ),
            (
                IdError::NirKeyFormat,
                "NIR_CLE",
                "CLE : 2 chiffres attendus",
            ),
            (
                IdError::SiretFormat,
                "SIRET_FORMAT",
                "SIRET : 14 chiffres attendus",
            ),
            (
                IdError::SiretKey,
                "SIRET_CLE",
                "SIRET : clé de contrôle invalide",
            ),
            (
                IdError::SirenFormat,
                "SIRET_FORMAT",
                "SIREN : 9 chiffres attendus",
            ),
            (
                IdError::SirenKey,
                "SIRET_CLE",
                "SIREN : clé de contrôle invalide",
            ),
            (
                IdError::RppsFormat,
                "RPPS_FORMAT",
                "RPPS : 11 chiffres attendus",
            ),
            (
                IdError::RppsKey,
                "RPPS_CLE",
                "RPPS : clé de contrôle invalide",
            ),
        ];
        for (err, code, msg) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.to_string(), msg);
        }
    }

    // ---- SIRET / SIREN

    #[test]
    fn siret_domain_vectors() {
        let s = Siret::parse("73282932000074").unwrap();
        assert_eq!(s.as_str(), "73282932000074");
        assert_eq!(s.siren(), Siren::parse("732829320").unwrap());
        assert_eq!(s.nic(), "00074");
        assert_eq!(Siret::parse("73282932000079"), Err(IdError::SiretKey));
    }

    #[test]
    fn siret_formats() {
        for s in [
            "",
            "7328293200007",
            "732829320000740",
            "7328293200007A",
            "732 829 320 00074",
            "73282932000074 ",
            "-3282932000074",
            "7328293200007é",
            "732829320000７4",
            "٧٣٢٨٢٩٣٢٠٠٠٠٧٤", // Arabic-Indic digits
        ] {
            assert_eq!(Siret::parse(s), Err(IdError::SiretFormat), "{s:?}");
        }
    }

    #[test]
    fn siret_needs_both_luhn_sums() {
        // The 14 digits pass Luhn, but the SIREN 732829321 does not.
        assert!(ref_luhn("73282932100007"));
        assert!(!ref_luhn("732829321"));
        assert_eq!(Siret::parse("73282932100007"), Err(IdError::SiretKey));
        // The SIREN passes, the 14 digits do not.
        assert!(ref_luhn("732829320"));
        assert!(!ref_luhn("73282932000079"));
    }

    #[test]
    fn la_poste_head_office() {
        let head = Siret::parse("35600000000048").unwrap();
        assert_eq!(head.siren().as_str(), "356000000");
        // It passes by the ordinary rule only: its digit sum is not a multiple of 5.
        assert!(ref_luhn("35600000000048"));
        assert_eq!(digit_sum("35600000000048") % 5, 1);
    }

    #[test]
    fn la_poste_establishments() {
        // Digit sum a multiple of 5 but failing Luhn: valid thanks to the exception.
        for s in [
            "35600000000001",
            "35600000000010",
            "35600000000015",
            "35600000000024",
            "35600000000029",
            "35600000012341",
            "35600000012346",
            "35600000099995",
        ] {
            assert_eq!(digit_sum(s) % 5, 0, "{s}");
            assert!(!ref_luhn(s), "{s}");
            let siret = Siret::parse(s).unwrap();
            assert_eq!(siret.siren().as_str(), "356000000");
        }
        // Digit sum not a multiple of 5: invalid, even when Luhn passes.
        for s in [
            "35600000000014",
            "35600000000022",
            "35600000000030",
            "35600000000055",
            "35600000000063",
        ] {
            assert_ne!(digit_sum(s) % 5, 0, "{s}");
            assert!(ref_luhn(s), "{s}");
            assert_eq!(Siret::parse(s), Err(IdError::SiretKey), "{s}");
        }
        for s in [
            "35600000000000",
            "35600000000002",
            "35600000012345",
            "35600000000049",
        ] {
            assert_ne!(digit_sum(s) % 5, 0, "{s}");
            assert!(!ref_luhn(s), "{s}");
            assert_eq!(Siret::parse(s), Err(IdError::SiretKey), "{s}");
        }
        // Both rules satisfied: valid.
        assert!(Siret::parse("35600000000006").is_ok());
        // 356000000 is a valid SIREN by the ordinary rule.
        assert!(ref_luhn("356000000"));
        assert!(Siren::parse("356000000").is_ok());
    }

    #[test]
    fn la_poste_rule_needs_the_full_siren() {
        // A SIREN starting like La Poste's but different follows the ordinary rule.
        let payload = "35600000100005";
        assert_eq!(digit_sum(payload) % 5, 0);
        assert!(!ref_luhn(payload));
        assert_eq!(Siret::parse(payload), Err(IdError::SiretKey));
    }

    #[test]
    fn siren_vectors() {
        for s in ["732829320", "443061841", "552081317", "356000000"] {
            let siren = Siren::parse(s).unwrap();
            assert_eq!(siren.to_string(), s);
        }
        for s in ["732829321", "443061842", "552081318", "100000000"] {
            assert_eq!(Siren::parse(s), Err(IdError::SirenKey), "{s}");
        }
        for s in [
            "",
            "73282932",
            "7328293200",
            "73282932A",
            "７32829320",
            " 73282932",
        ] {
            assert_eq!(Siren::parse(s), Err(IdError::SirenFormat), "{s:?}");
        }
        assert_eq!(IdError::SirenKey.code(), "SIRET_CLE");
        assert_eq!(IdError::SirenFormat.code(), "SIRET_FORMAT");
    }

    #[test]
    fn siret_siren_traits_and_serde() {
        let s: Siret = "73282932000074".parse().unwrap();
        assert_eq!(s.to_string(), "73282932000074");
        assert_eq!(s.as_ref(), "73282932000074");
        assert_eq!(String::from(s.clone()), "73282932000074");
        assert_eq!(de::<Siret>("73282932000074").unwrap(), s);
        assert!(de::<Siret>("73282932000079").is_err());
        let siren: Siren = "732829320".parse().unwrap();
        assert_eq!(siren.as_ref(), "732829320");
        assert_eq!(de::<Siren>("732829320").unwrap(), siren);
        assert!(de::<Siren>("73282932").is_err());
        assert!(Siret::parse("35600000000048").unwrap() < s);
    }

    // ---- RPPS

    #[test]
    fn rpps_vectors() {
        let payloads = ["1000000000", "1010000462", "1234567890", "8000000001"];
        for p in payloads {
            let valid = format!("{p}{}", luhn_check_digit(p));
            let rpps = Rpps::parse(&valid).unwrap();
            assert_eq!(rpps.as_str(), valid);
            // Any single digit change breaks the key.
            for i in 0..11 {
                for d in b'0'..=b'9' {
                    let mut bytes = valid.clone().into_bytes();
                    if bytes[i] == d {
                        continue;
                    }
                    bytes[i] = d;
                    let changed = String::from_utf8(bytes).unwrap();
                    assert_eq!(Rpps::parse(&changed), Err(IdError::RppsKey), "{changed}");
                }
            }
        }
        assert!(Rpps::parse("10000000009").is_ok());
        assert!(Rpps::parse("10100004620").is_ok());
        assert_eq!(Rpps::parse("10000000008"), Err(IdError::RppsKey));
    }

    #[test]
    fn rpps_formats_and_traits() {
        for s in [
            "",
            "1000000000",
            "100000000090",
            "1000000000A",
            "１0000000009",
            "10000000009 ",
        ] {
            assert_eq!(Rpps::parse(s), Err(IdError::RppsFormat), "{s:?}");
        }
        let r: Rpps = "10000000009".parse().unwrap();
        assert_eq!(r.to_string(), "10000000009");
        assert_eq!(r.as_ref(), "10000000009");
        assert_eq!(de::<Rpps>("10000000009").unwrap(), r);
        assert!(de::<Rpps>("10000000008").is_err());
        assert_eq!(String::from(r), "10000000009");
    }

    // ---- property tests

    fn nir_strategy() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!['1', '2', '3', '4', '7', '8']),
            "[0-9]{4}",
            prop_oneof![
                "[0-9]{2}".boxed(),
                Just("2A".to_owned()).boxed(),
                Just("2B".to_owned()).boxed(),
                Just("2a".to_owned()).boxed(),
                Just("2b".to_owned()).boxed(),
            ],
            "[0-9]{6}",
        )
            .prop_map(|(f, ym, dept, rest)| format!("{f}{ym}{dept}{rest}"))
    }

    fn valid_siret_strategy() -> impl Strategy<Value = String> {
        ("[0-9]{8}", "[0-9]{4}").prop_map(|(siren8, nic4)| {
            let siren = format!("{siren8}{}", luhn_check_digit(&siren8));
            let payload = format!("{siren}{nic4}");
            format!("{payload}{}", luhn_check_digit(&payload))
        })
    }

    proptest! {
        #[test]
        fn prop_nir_key_checks(n in nir_strategy()) {
            let nir = Nir::parse(&n).unwrap();
            let key = nir.key();
            prop_assert_eq!(key, ref_nir_key(&n));
            prop_assert!((1..=97).contains(&key));
            prop_assert_eq!(nir.check_key(&format!("{key:02}")), Ok(()));
            prop_assert_eq!(Nir::parse_with_key(&format!("{n}{key:02}")), Ok(nir.clone()));
            for other in (1..=97u8).filter(|k| *k != key) {
                prop_assert_eq!(
                    nir.check_key(&format!("{other:02}")),
                    Err(IdError::NirKey { expected: key })
                );
            }
        }

        #[test]
        fn prop_nir_display_round_trip(n in nir_strategy()) {
            let nir = Nir::parse(&n).unwrap();
            prop_assert_eq!(nir.to_string(), n.to_ascii_uppercase());
            prop_assert_eq!(Nir::parse(&format!("{nir}")), Ok(nir.clone()));
        }

        #[test]
        fn prop_no_panic_any_string(s in any::<String>()) {
            let _ = Nir::parse(&s);
            let _ = Nir::parse_with_key(&s);
            let _ = Siret::parse(&s);
            let _ = Siren::parse(&s);
            let _ = Rpps::parse(&s);
            let nir = Nir::parse("2951099126111").unwrap();
            let _ = nir.check_key(&s);
        }

        #[test]
        fn prop_no_panic_near_valid(s in "[0-9aAbBé２ ]{0,17}") {
            if let Ok(n) = Nir::parse(&s) {
                prop_assert_eq!(n.as_str().len(), 13);
                let _ = n.key();
            }
            let _ = Nir::parse_with_key(&s);
            let _ = Siret::parse(&s);
            let _ = Siren::parse(&s);
            let _ = Rpps::parse(&s);
        }

        #[test]
        fn prop_siret_single_digit_change(
            s in valid_siret_strategy(),
            pos in 0usize..14,
            delta in 1u8..10,
        ) {
            prop_assume!(!s.starts_with(LA_POSTE_SIREN));
            let siret = Siret::parse(&s).unwrap();
            prop_assert_eq!(Siret::parse(&format!("{siret}")), Ok(siret.clone()));
            prop_assert_eq!(Siren::parse(siret.siren().as_str()), Ok(siret.siren()));
            let mut bytes = s.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            // A change that lands on La Poste's SIREN falls under the other rule.
            prop_assume!(!changed.starts_with(LA_POSTE_SIREN));
            prop_assert_eq!(Siret::parse(&changed), Err(IdError::SiretKey));
        }

        #[test]
        fn prop_la_poste_rule(nic in "[0-9]{5}") {
            let s = format!("{LA_POSTE_SIREN}{nic}");
            let expected = if s == LA_POSTE_HEAD_OFFICE {
                true
            } else {
                digit_sum(&s).is_multiple_of(5)
            };
            prop_assert_eq!(Siret::parse(&s).is_ok(), expected);
        }

        #[test]
        fn prop_siren_and_rpps(p8 in "[0-9]{8}", p10 in "[0-9]{10}", pos in 0usize..9, delta in 1u8..10) {
            let siren = format!("{p8}{}", luhn_check_digit(&p8));
            let parsed = Siren::parse(&siren).unwrap();
            prop_assert_eq!(Siren::parse(&format!("{parsed}")), Ok(parsed));
            let mut b = siren.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert_eq!(Siren::parse(&String::from_utf8(b).unwrap()), Err(IdError::SirenKey));

            let rpps = format!("{p10}{}", luhn_check_digit(&p10));
            let parsed = Rpps::parse(&rpps).unwrap();
            prop_assert_eq!(Rpps::parse(&format!("{parsed}")), Ok(parsed));
            let mut b = rpps.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert_eq!(Rpps::parse(&String::from_utf8(b).unwrap()), Err(IdError::RppsKey));
        }
    }
}
