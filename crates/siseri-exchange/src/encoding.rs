//! The encodings of a CSV file (exchange.md §1): UTF-8, or Windows-1252 as the SISERI 2
//! worker template's export macro and Excel's plain "CSV (séparateur: point-virgule)" save on
//! a French Windows write it.
//!
//! A file is streamed, so its encoding is decided record by record without reading it twice:
//! records are read as UTF-8 until the first one that is not valid UTF-8. If no earlier
//! record held a non-ASCII character (everything so far reads the same in both encodings),
//! the file is read as Windows-1252 from there on, with the file-level warning
//! `ENCODAGE_WINDOWS_1252`. If an earlier record held valid non-ASCII UTF-8 (or the file began
//! with a UTF-8 byte-order mark), the file mixes two encodings and is refused with
//! `ENCODAGE_INVALIDE`: no reading of it gives back what its author typed
//! (docs/decisions.md).
//!
//! Read as Windows-1252, a byte that encoding leaves undefined (0x81, 0x8D, 0x8F, 0x90,
//! 0x9D) or a NUL (a UTF-16 file, a binary file) refuses the file with `ENCODAGE_INVALIDE`.

use std::borrow::Cow;
use std::fmt;

/// How the bytes of a CSV file are read as text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CsvEncoding {
    /// UTF-8, or Windows-1252 when the file is not valid UTF-8 (the default).
    #[default]
    Auto,
    /// UTF-8 only: invalid bytes refuse the file (`?encodage=utf-8`).
    Utf8,
    /// Windows-1252 whatever the bytes (`?encodage=windows-1252`).
    Windows1252,
}

impl CsvEncoding {
    /// The encoding a sender names (`utf-8`, `windows-1252`, in any case), `None` for
    /// anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("utf-8") {
            Some(CsvEncoding::Utf8)
        } else if s.eq_ignore_ascii_case("windows-1252") {
            Some(CsvEncoding::Windows1252)
        } else {
            None
        }
    }
}

impl fmt::Display for CsvEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsvEncoding::Auto => "auto",
            CsvEncoding::Utf8 => "utf-8",
            CsvEncoding::Windows1252 => "windows-1252",
        })
    }
}

/// `bytes` as text whatever they hold, for repeating a refused file's lines: UTF-8 when
/// they are valid UTF-8, otherwise Windows-1252 (whose undefined bytes come out as C1
/// control characters). Never fails.
pub fn decode_any(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

/// The bytes Windows-1252 leaves undefined (encoding_rs maps them to C1 controls instead of
/// failing, as the WHATWG standard says; the spec refuses them).
const UNDEFINED_IN_WINDOWS_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Why a record could not be decoded; the reader turns it into `ENCODAGE_INVALIDE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Not UTF-8, and UTF-8 was required (forced, or the file began with a byte-order mark).
    NotUtf8,
    /// Not UTF-8 after valid non-ASCII UTF-8 on an earlier line.
    Mixed {
        /// The first line that held non-ASCII UTF-8.
        utf8_line: u64,
    },
    /// A byte undefined in Windows-1252.
    Undefined(u8),
    /// A NUL byte, read as Windows-1252.
    Nul,
}

impl DecodeError {
    /// The French message of the refusal, naming the line.
    pub(crate) fn message(&self, line: u64) -> String {
        match self {
            DecodeError::NotUtf8 => format!(
                "le fichier n'est pas encodé en UTF-8 (octets invalides ligne {line}) ; \
                 enregistrez-le au format « CSV UTF-8 »"
            ),
            DecodeError::Mixed { utf8_line } => format!(
                "le fichier mélange deux encodages : UTF-8 ligne {utf8_line}, autre chose \
                 ligne {line} ; enregistrez-le au format « CSV UTF-8 »"
            ),
            DecodeError::Undefined(b) => format!(
                "octet 0x{b:02X} ligne {line}, ni UTF-8 ni Windows-1252 ; enregistrez le \
                 fichier au format « CSV UTF-8 »"
            ),
            DecodeError::Nul => format!(
                "octet nul ligne {line} (fichier UTF-16 ou binaire ?) ; enregistrez le fichier \
                 au format « CSV UTF-8 »"
            ),
        }
    }
}

/// Where the reading of a file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Only ASCII so far (or nothing): both encodings are still possible.
    Undecided,
    /// UTF-8 for good: forced, or declared by a byte-order mark.
    Utf8Required,
    /// UTF-8 for good: non-ASCII UTF-8 was read on that line.
    Utf8Seen(u64),
    /// Windows-1252 for good.
    Windows1252,
}

/// Decodes the records of one file, deciding its encoding on the way.
#[derive(Debug, Clone)]
pub(crate) struct Decoder {
    state: State,
    /// Whether a non-ASCII byte was read as Windows-1252 (the warning is due).
    read_windows_1252: bool,
}

impl Decoder {
    /// A decoder for `encoding`.
    pub(crate) fn new(encoding: CsvEncoding) -> Self {
        let state = match encoding {
            CsvEncoding::Auto => State::Undecided,
            CsvEncoding::Utf8 => State::Utf8Required,
            CsvEncoding::Windows1252 => State::Windows1252,
        };
        Decoder {
            state,
            read_windows_1252: false,
        }
    }

    /// The file began with a UTF-8 byte-order mark: it says UTF-8, so invalid bytes later
    /// are not Windows-1252 but a damaged or mixed file.
    pub(crate) fn utf8_declared(&mut self) {
        if self.state == State::Undecided {
            self.state = State::Utf8Required;
        }
    }

    /// Whether some non-ASCII byte was read as Windows-1252 so far.
    pub(crate) fn read_windows_1252(&self) -> bool {
        self.read_windows_1252
    }

    /// The fields of one record (the one starting on `line`) as text.
    pub(crate) fn decode<'a, I>(
        &mut self,
        fields: I,
        line: u64,
    ) -> Result<Vec<Cow<'a, str>>, DecodeError>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        if self.state != State::Windows1252 {
            match fields
                .clone()
                .map(|f| std::str::from_utf8(f).map(Cow::Borrowed))
                .collect::<Result<Vec<Cow<'a, str>>, _>>()
            {
                Ok(text) => {
                    if self.state == State::Undecided && text.iter().any(|f| !f.is_ascii()) {
                        self.state = State::Utf8Seen(line);
                    }
                    return Ok(text);
                }
                Err(_) => match self.state {
                    State::Utf8Required => return Err(DecodeError::NotUtf8),
                    State::Utf8Seen(line) => return Err(DecodeError::Mixed { utf8_line: line }),
                    State::Undecided | State::Windows1252 => self.state = State::Windows1252,
                },
            }
        }
        fields.map(|f| self.windows_1252(f)).collect()
    }

    fn windows_1252<'a>(&mut self, field: &'a [u8]) -> Result<Cow<'a, str>, DecodeError> {
        if let Some(b) = field
            .iter()
            .find(|b| **b == 0 || UNDEFINED_IN_WINDOWS_1252.contains(b))
        {
            return Err(if *b == 0 {
                DecodeError::Nul
            } else {
                DecodeError::Undefined(*b)
            });
        }
        if !field.is_ascii() {
            self.read_windows_1252 = true;
        }
        // Every other byte has a character: nothing is replaced.
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(field);
        Ok(text)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decode(d: &mut Decoder, fields: &[&[u8]], line: u64) -> Result<Vec<String>, DecodeError> {
        d.decode(fields.iter().copied(), line)
            .map(|v| v.into_iter().map(Cow::into_owned).collect())
    }

    #[test]
    fn names() {
        assert_eq!(CsvEncoding::parse(" UTF-8 "), Some(CsvEncoding::Utf8));
        assert_eq!(
            CsvEncoding::parse("Windows-1252"),
            Some(CsvEncoding::Windows1252)
        );
        assert_eq!(CsvEncoding::parse("latin1"), None);
        assert_eq!(CsvEncoding::parse("utf8"), None);
        assert_eq!(CsvEncoding::Windows1252.to_string(), "windows-1252");
    }

    #[test]
    fn switches_to_windows_1252_while_only_ascii_was_seen() {
        let mut d = Decoder::new(CsvEncoding::Auto);
        assert_eq!(decode(&mut d, &[b"NOM", b"A"], 1).unwrap(), ["NOM", "A"]);
        assert!(!d.read_windows_1252());
        assert_eq!(
            decode(&mut d, &[b"LEF\xC8VRE", b"x"], 2).unwrap(),
            ["LEFÈVRE", "x"]
        );
        assert!(d.read_windows_1252());
        // From there on, Windows-1252 even for bytes that would be valid UTF-8.
        assert_eq!(decode(&mut d, &[b"\xC3\xA9"], 3).unwrap(), ["Ã©"]);
        assert_eq!(decode(&mut d, &[b"\x80\x9C"], 4).unwrap(), ["€œ"]);
    }

    #[test]
    fn mixed_files_are_refused() {
        let mut d = Decoder::new(CsvEncoding::Auto);
        assert_eq!(
            decode(&mut d, &[b"LEF\xC3\x88VRE"], 2).unwrap(),
            ["LEFÈVRE"]
        );
        assert_eq!(
            decode(&mut d, &[b"LEF\xC8VRE"], 5).unwrap_err(),
            DecodeError::Mixed { utf8_line: 2 }
        );
        let mut d = Decoder::new(CsvEncoding::Auto);
        d.utf8_declared();
        assert_eq!(
            decode(&mut d, &[b"\xE9"], 2).unwrap_err(),
            DecodeError::NotUtf8
        );
    }

    #[test]
    fn forced_readings() {
        let mut d = Decoder::new(CsvEncoding::Utf8);
        assert_eq!(
            decode(&mut d, &[b"\xE9"], 2).unwrap_err(),
            DecodeError::NotUtf8
        );
        let mut d = Decoder::new(CsvEncoding::Windows1252);
        d.utf8_declared();
        assert_eq!(decode(&mut d, &[b"A"], 1).unwrap(), ["A"]);
        assert!(!d.read_windows_1252());
        assert_eq!(decode(&mut d, &[b"\xC3\xA9"], 2).unwrap(), ["Ã©"]);
        assert!(d.read_windows_1252());
    }

    #[test]
    fn undefined_bytes_and_nul_are_refused() {
        for b in UNDEFINED_IN_WINDOWS_1252 {
            let mut d = Decoder::new(CsvEncoding::Auto);
            assert_eq!(
                decode(&mut d, &[b"a", &[b'x', b]], 2).unwrap_err(),
                DecodeError::Undefined(b)
            );
        }
        let mut d = Decoder::new(CsvEncoding::Windows1252);
        assert_eq!(decode(&mut d, &[b"a\0"], 2).unwrap_err(), DecodeError::Nul);
        // Every other byte has its character.
        let all: Vec<u8> = (1..=255u8)
            .filter(|b| !UNDEFINED_IN_WINDOWS_1252.contains(b))
            .collect();
        let text = decode(&mut d, &[&all], 3).unwrap();
        assert_eq!(text[0].chars().count(), all.len());
        assert!(!text[0].contains('\u{FFFD}'));
        assert!(
            DecodeError::Undefined(0x81)
                .message(7)
                .contains("0x81 ligne 7")
        );
    }
}
