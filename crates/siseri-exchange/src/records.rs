//! The format-independent reading layer (exchange.md §1 and §6, api.md "Transmissions"):
//! records read from a CSV file or a JSON body, the vocabulary of line and file codes, and the
//! CSV execution report.
//!
//! A format declares its columns as a `&'static [Column]` in the spec's order; the readers map
//! whatever order the sender used onto it, so that [`Record::get`] takes the format's column
//! index. Both readers stream: they hold one record at a time, whatever the size of the file.
//!
//! # File-level refusals while streaming
//!
//! Some refusals can only be seen late (`ENCODAGE_INVALIDE` on line 3,000,000,
//! `FICHIER_TROP_GRAND` at the 5,000,001st record, `JSON_INVALIDE` after the 10th object).
//! They arrive as an `Err(ReadError::Refused(_))` item after records were already yielded.
//! Such an error refuses the **whole** file: the caller must roll back everything it did with
//! the earlier records (a transmission is atomic, §6), then report every line with the
//! file-level code. After an error the readers are fused (they yield nothing more).
//!
//! # Memory
//!
//! Both readers hold one record (CSV) or one array element (JSON) at a time, plus the
//! warnings. A single record larger than [`Limits::max_record_bytes`] (typically an unclosed
//! quote swallowing the rest of the file) refuses the file with `FICHIER_TROP_GRAND` instead
//! of being buffered. The report writer holds nothing.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use thiserror::Error;

use crate::cells;
use crate::encoding::{CsvEncoding, Decoder};
use crate::values::ValueError;

/// Number of records a transmission may hold (exchange.md §1); one more refuses the file.
pub const MAX_RECORDS: u64 = 5_000_000;

/// The columns the CSV report adds; dropped silently when a report is sent back as a file.
/// `STATUT_LIGNE`, not `STATUT`: `resultats` has a `STATUT` column of its own.
pub const REPORT_COLUMNS: [&str; 3] = ["STATUT_LIGNE", "CODE_ERREUR", "MESSAGE"];

/// The status column of reports written before `STATUT_LIGNE`, still dropped silently when
/// such a report is sent back (after the format's own `STATUT` in a `resultats` report).
pub const LEGACY_STATUS_COLUMN: &str = "STATUT";

/// Bytes one record may take (about 50 times the longest legitimate line); beyond, the file
/// is refused with `FICHIER_TROP_GRAND` rather than held in memory.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// The limits of a reader; the defaults are the spec's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Records admitted; one more refuses the file with `FICHIER_TROP_GRAND`.
    pub max_records: u64,
    /// Bytes one record may take; more refuses the file with `FICHIER_TROP_GRAND`.
    pub max_record_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_records: MAX_RECORDS,
            max_record_bytes: MAX_RECORD_BYTES,
        }
    }
}

const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

// ---------------------------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------------------------

/// Whether a column must be present in the header (not whether its value may be empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Always required, in the header and as a value.
    Mandatory,
    /// "cond." in the spec: the value is required in some cases only, but the column must be
    /// in the header.
    Conditional,
    /// The column may be left out of the header (its values are then empty).
    Optional,
}

/// One column of a format, as the spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Column {
    /// The column name, in its canonical spelling (matched case-insensitively).
    pub name: &'static str,
    /// Whether the header must contain it.
    pub required: Requirement,
}

impl Column {
    /// A column, for `const` format declarations.
    pub const fn new(name: &'static str, required: Requirement) -> Self {
        Column { name, required }
    }

    /// Whether a header without this column is refused with `ENTETE_INVALIDE`.
    pub const fn must_be_in_header(&self) -> bool {
        !matches!(self.required, Requirement::Optional)
    }
}

// ---------------------------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------------------------

/// What a code does to a line or a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeClass {
    /// The line is rejected (`REJETE`).
    Error,
    /// The line is put on hold (`EN_ATTENTE`).
    Hold,
    /// The line is accepted with a warning.
    Warning,
    /// The whole file is refused, no line is stored.
    FileRefusal,
    /// A file-level warning; the lines are processed.
    FileWarning,
}

/// Declares a code enum whose variants, spellings and classes follow the spec's lists.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $code:literal, $class:ident; )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every code, in the spec's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The exact spelling of the code in reports.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            /// What the code does to the line or the file.
            pub const fn class(self) -> CodeClass {
                match self { $($name::$variant => CodeClass::$class),* }
            }

            /// The code spelled `s` (case-insensitive, trimmed), e.g. from a report sent back.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|c| c.code().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// A line-level code (exchange.md §6). The declaration order is the spec's order, so the
    /// derived `Ord` is the order in which codes of one column are listed in a report.
    LineCode {
        /// More or fewer fields than the header.
        NbColonnes => "NB_COLONNES", Error;
        /// A required value is empty.
        ChampObligatoire => "CHAMP_OBLIGATOIRE", Error;
        /// A free text exceeds its limit.
        TexteTropLong => "TEXTE_TROP_LONG", Error;
        /// The NIR is not 13 characters of the NIR alphabet.
        NirFormat => "NIR_FORMAT", Error;
        /// The NIR key is wrong.
        NirCle => "NIR_CLE", Error;
        /// The last name has characters outside the admitted set.
        NomFormat => "NOM_FORMAT", Error;
        /// The first name has characters outside the admitted set.
        PrenomFormat => "PRENOM_FORMAT", Error;
        /// Not a date `JJ/MM/AAAA` (or date-time) or not a real date.
        DateFormat => "DATE_FORMAT", Error;
        /// Sex other than `F` or `M`.
        SexeInvalide => "SEXE_INVALIDE", Error;
        /// The SIRET is not 14 digits.
        SiretFormat => "SIRET_FORMAT", Error;
        /// The SIRET key is wrong.
        SiretCle => "SIRET_CLE", Error;
        /// The SIRET is not one of the sender's company.
        SiretHorsEntreprise => "SIRET_HORS_ENTREPRISE", Error;
        /// The SIRET is unknown to the registry.
        EtablissementInconnu => "ETABLISSEMENT_INCONNU", Error;
        /// A value outside a closed list (nomenclature codes included).
        CodeInconnu => "CODE_INCONNU", Error;
        /// Nomenclature codes that do not belong together.
        NomenclatureIncoherente => "NOMENCLATURE_INCOHERENTE", Error;
        /// The classification is missing.
        ClassementManquant => "CLASSEMENT_MANQUANT", Error;
        /// QUOTITE is not a number of 0.1 to 1 with at most 3 decimals.
        QuotiteInvalide => "QUOTITE_INVALIDE", Error;
        /// The end of a period is before its start.
        PeriodeInversee => "PERIODE_INVERSEE", Error;
        /// The period is longer than admitted.
        PeriodeTropLongue => "PERIODE_TROP_LONGUE", Error;
        /// A date after today.
        DateFuture => "DATE_FUTURE", Error;
        /// Not a number.
        ValeurFormat => "VALEUR_FORMAT", Error;
        /// A number outside its bounds.
        ValeurHorsBornes => "VALEUR_HORS_BORNES", Error;
        /// A value required by another one is missing.
        ValeurManquante => "VALEUR_MANQUANTE", Error;
        /// A value given where none is expected.
        ValeurInattendue => "VALEUR_INATTENDUE", Error;
        /// The sender's reference is malformed.
        ReferenceFormat => "REFERENCE_FORMAT", Error;
        /// The reference is already used for different data.
        ReferenceConflit => "REFERENCE_CONFLIT", Error;
        /// A correction whose original is unknown.
        CorrectionSansOrigine => "CORRECTION_SANS_ORIGINE", Error;
        /// Nature and quantity do not go together.
        NatureGrandeurIncoherente => "NATURE_GRANDEUR_INCOHERENTE", Error;
        /// The body is not accredited for this nature.
        NatureNonAccreditee => "NATURE_NON_ACCREDITEE", Error;
        /// Invalid dosimeter position.
        PositionInvalide => "POSITION_INVALIDE", Error;
        /// An administrator rejected a held line.
        RejetGestionnaire => "REJET_GESTIONNAIRE", Error;
        /// The identity differs from the registry's.
        IdentiteIncoherente => "IDENTITE_INCOHERENTE", Hold;
        /// The worker is unknown (operational dosimetry).
        TravailleurInconnu => "TRAVAILLEUR_INCONNU", Hold;
        /// The NIR's sex digit differs from SEXE.
        NirSexeIncoherent => "NIR_SEXE_INCOHERENT", Warning;
        /// The NIR's birth year differs from DATENAISSANCE's (exchange.md §5).
        NirNaissanceIncoherente => "NIR_NAISSANCE_INCOHERENTE", Warning;
        /// Digits below the µSv were dropped.
        ValeurArrondie => "VALEUR_ARRONDIE", Warning;
        /// No attachment of the worker to the SIRET at DATE_FIN.
        RattachementAbsent => "RATTACHEMENT_ABSENT", Warning;
        /// The classification should be reviewed (rules.md §4).
        ClassementARevoir => "CLASSEMENT_A_REVOIR", Warning;
    }
}

code_enum! {
    /// A file-level code (exchange.md §6): every one refuses the file except the warnings
    /// `COLONNE_IGNOREE` and `ENCODAGE_WINDOWS_1252`.
    FileCode {
        /// The file is neither UTF-8 nor Windows-1252, or mixes both.
        EncodageInvalide => "ENCODAGE_INVALIDE", FileRefusal;
        /// Missing, duplicate or empty column names.
        EnteteInvalide => "ENTETE_INVALIDE", FileRefusal;
        /// The JSON body is not an array of objects of strings.
        JsonInvalide => "JSON_INVALIDE", FileRefusal;
        /// More than 2 GiB or more than [`MAX_RECORDS`] records.
        FichierTropGrand => "FICHIER_TROP_GRAND", FileRefusal;
        /// No record at all.
        FichierVide => "FICHIER_VIDE", FileRefusal;
        /// An unknown column, ignored.
        ColonneIgnoree => "COLONNE_IGNOREE", FileWarning;
        /// The CSV file is not UTF-8: it was read as Windows-1252.
        EncodageWindows1252 => "ENCODAGE_WINDOWS_1252", FileWarning;
    }
}

/// The single status of a line in a report (exchange.md §6), in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineStatus {
    /// Invalid, nothing stored.
    Rejete,
    /// Valid but held for reconciliation.
    EnAttente,
    /// Identical to what is stored.
    Doublon,
    /// Valid and stored.
    Accepte,
}

impl LineStatus {
    /// Every status, in order of precedence.
    pub const ALL: &'static [LineStatus] = &[
        LineStatus::Rejete,
        LineStatus::EnAttente,
        LineStatus::Doublon,
        LineStatus::Accepte,
    ];

    /// The exact spelling in reports.
    pub const fn code(self) -> &'static str {
        match self {
            LineStatus::Rejete => "REJETE",
            LineStatus::EnAttente => "EN_ATTENTE",
            LineStatus::Doublon => "DOUBLON",
            LineStatus::Accepte => "ACCEPTE",
        }
    }

    /// The status spelled `s` (case-insensitive, trimmed).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for LineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One code of a line with its French message, which names the field and the expected form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMessage {
    /// The code.
    pub code: LineCode,
    /// The column concerned (canonical name), if the code is about one column.
    pub field: Option<&'static str>,
    /// The French text of the report (« NIR : la clé du NIR devrait être 43 »).
    pub message: String,
}

impl LineMessage {
    /// A message about one column: « FIELD : detail ».
    pub fn for_field(code: LineCode, field: &'static str, detail: impl fmt::Display) -> Self {
        LineMessage {
            code,
            field: Some(field),
            message: format!("{field} : {detail}"),
        }
    }

    /// A message about the line as a whole.
    pub fn for_line(code: LineCode, detail: impl fmt::Display) -> Self {
        LineMessage {
            code,
            field: None,
            message: detail.to_string(),
        }
    }

    /// A refused value, the expected form taken from [`ValueError`]'s French text.
    pub fn from_value_error(code: LineCode, field: &'static str, error: &ValueError) -> Self {
        Self::for_field(code, field, error)
    }

    /// `CHAMP_OBLIGATOIRE` for an empty required value.
    pub fn mandatory(field: &'static str) -> Self {
        Self::for_field(
            LineCode::ChampObligatoire,
            field,
            "valeur obligatoire, la case est vide",
        )
    }

    /// `NB_COLONNES`: the record has `found` fields where the header has `expected`.
    pub fn column_count(expected: usize, found: usize) -> Self {
        Self::for_line(
            LineCode::NbColonnes,
            format!(
                "la ligne compte {found} champ(s) séparés par « ; », l'en-tête en compte {expected}"
            ),
        )
    }
}

/// A file-level code with its French message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMessage {
    /// The code.
    pub code: FileCode,
    /// The French text of the report.
    pub message: String,
}

impl FileMessage {
    /// A file-level message.
    pub fn new(code: FileCode, message: impl Into<String>) -> Self {
        FileMessage {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} : {}", self.code, self.message)
    }
}

/// Why reading stopped.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The sender's file is refused as a whole (a [`CodeClass::FileRefusal`] code); everything
    /// done with records already yielded must be rolled back.
    #[error("{0}")]
    Refused(FileMessage),
    /// The input itself failed (connection closed, disk error): not the sender's fault, so no
    /// spec code; the transmission is rolled back and not reported as refused.
    #[error("lecture interrompue : {0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    fn refused(code: FileCode, message: impl Into<String>) -> Self {
        ReadError::Refused(FileMessage::new(code, message))
    }

    /// The spec code, when the file was refused.
    pub fn file_code(&self) -> Option<FileCode> {
        match self {
            ReadError::Refused(m) => Some(m.code),
            ReadError::Io(_) => None,
        }
    }
}

fn empty_file() -> ReadError {
    ReadError::refused(
        FileCode::FichierVide,
        "le fichier ne contient aucun enregistrement (vide, ou en-tête seul)",
    )
}

fn too_many_records(max: u64) -> ReadError {
    ReadError::refused(
        FileCode::FichierTropGrand,
        format!("le fichier dépasse {max} enregistrements ; découpez-le en plusieurs envois"),
    )
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// One record of a file or JSON body, its values in the format's column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    line: u64,
    raw: Vec<String>,
    error: Option<LineMessage>,
}

impl Record {
    /// The physical line where the record starts (header = 1); for JSON, index + 2.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The trimmed value of the format's column `index`; empty when the column is absent
    /// from the file (or `index` is out of range).
    pub fn get(&self, index: usize) -> &str {
        self.raw.get(index).map_or("", |v| v.trim())
    }

    /// The values as sent (untrimmed), one per format column, empty for absent columns: what
    /// the CSV report repeats.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }

    /// A reading error that rejects this line alone (`NB_COLONNES`); the values are then
    /// only the first fields mapped by position, for the report.
    pub fn error(&self) -> Option<&LineMessage> {
        self.error.as_ref()
    }
}

/// How the sender's columns map onto the format's.
#[derive(Debug)]
struct Layout {
    /// For each column of the sender's header, the format column it fills (None: dropped).
    positions: Vec<Option<usize>>,
    /// Empty names that ended the header (a trailing `;`), dropped: records may have as many
    /// empty fields there.
    trailing_empty: usize,
    /// Number of format columns.
    width: usize,
}

impl Layout {
    /// Checks the header and maps it; `Err` is the `ENTETE_INVALIDE` message.
    fn from_header<S: AsRef<str>>(
        columns: &'static [Column],
        names: &[S],
        warnings: &mut Vec<FileMessage>,
    ) -> Result<Self, ReadError> {
        // Spreadsheets end the header with `;` (or several) when a column to its right was
        // ever used: empty names at the end are no column (exchange.md §1).
        let named = names
            .iter()
            .rposition(|n| !n.as_ref().trim().is_empty())
            .map_or(0, |last| last + 1);
        let trailing_empty = names.len() - named;
        let names = names.get(..named).unwrap_or_default();
        let mut problems = Vec::new();
        let mut empty = Vec::new();
        let mut duplicates: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut positions = Vec::with_capacity(names.len());
        let mut found = vec![false; columns.len()];
        let mut unknown = Vec::new();
        let mut report_twins = HashSet::new();
        for (i, name) in names.iter().enumerate() {
            let name = name.as_ref().trim();
            if name.is_empty() {
                empty.push((i + 1).to_string());
                positions.push(None);
                continue;
            }
            // Unicode lower case so that non-ASCII unknown names are compared as the sender
            // reads them.
            let folded = name.to_lowercase();
            // A format column named like a report column (`STATUT` of `resultats`, the
            // status column of reports written before `STATUT_LIGNE`) appears twice in such a
            // report sent back: the report writes the format's columns first, so the second
            // occurrence is the report's, dropped like the other report columns. A third
            // occurrence is a duplicate.
            if seen.contains(&folded)
                && is_report_column(name)
                && columns.iter().any(|c| c.name.eq_ignore_ascii_case(name))
                && report_twins.insert(folded.clone())
            {
                positions.push(None);
                continue;
            }
            if !seen.insert(folded.clone())
                && !duplicates.iter().any(|d| d.to_lowercase() == folded)
            {
                duplicates.push(name.to_owned());
            }
            let index = columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name));
            if let Some(ci) = index
                && let Some(f) = found.get_mut(ci)
            {
                *f = true;
            } else if !is_report_column(name) {
                unknown.push(name.to_owned());
            }
            positions.push(index);
        }
        let missing: Vec<&str> = columns
            .iter()
            .zip(&found)
            .filter(|(c, f)| c.must_be_in_header() && !**f)
            .map(|(c, _)| c.name)
            .collect();
        if !missing.is_empty() {
            problems.push(format!("colonne(s) manquante(s) : {}", missing.join(", ")));
        }
        if !duplicates.is_empty() {
            problems.push(format!("colonne(s) en double : {}", duplicates.join(", ")));
        }
        if !empty.is_empty() {
            problems.push(format!(
                "nom de colonne vide en position {}",
                empty.join(", ")
            ));
        }
        if !problems.is_empty() {
            return Err(ReadError::refused(
                FileCode::EnteteInvalide,
                format!("en-tête invalide : {}", problems.join(" ; ")),
            ));
        }
        warnings.extend(unknown.into_iter().map(|name| ignored_column(&name)));
        Ok(Layout {
            positions,
            trailing_empty,
            width: columns.len(),
        })
    }

    /// Builds the record of `fields` (already text), checking their number.
    ///
    /// A value the registry neutralised in a report it wrote (`'=…`, see [`cells`]) is read
    /// back as it was first sent.
    fn record<S: AsRef<str>>(&self, line: u64, fields: &[S]) -> Record {
        let header = self.positions.len();
        // Beyond the named columns, the fields under the header's dropped empty names and
        // one more are tolerated when empty: spreadsheets often end lines with `;`.
        let tolerated = fields.len() > header
            && fields.len() <= header + self.trailing_empty + 1
            && fields
                .get(header..)
                .is_some_and(|extra| extra.iter().all(|f| f.as_ref().trim().is_empty()));
        let error = (fields.len() != header && !tolerated)
            .then(|| LineMessage::column_count(header, fields.len()));
        let mut raw = vec![String::new(); self.width];
        for (field, position) in fields.iter().zip(&self.positions) {
            if let Some(slot) = position.and_then(|ci| raw.get_mut(ci)) {
                cells::restore(field.as_ref()).clone_into(slot);
            }
        }
        Record { line, raw, error }
    }
}

/// Whether `name` is one of the columns the CSV report adds, or added before
/// `STATUT_LIGNE` (trimmed, any case).
fn is_report_column(name: &str) -> bool {
    REPORT_COLUMNS
        .iter()
        .chain([&LEGACY_STATUS_COLUMN])
        .any(|r| r.eq_ignore_ascii_case(name))
}

fn ignored_column(name: &str) -> FileMessage {
    FileMessage::new(
        FileCode::ColonneIgnoree,
        format!("colonne « {name} » inconnue du format, ses valeurs sont ignorées"),
    )
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/// Drops a leading UTF-8 byte-order mark, passing every other byte through.
struct SkipBom<R> {
    inner: R,
    started: bool,
    head: [u8; 3],
    head_len: usize,
    head_pos: usize,
}

impl<R: Read> SkipBom<R> {
    fn new(inner: R) -> Self {
        SkipBom {
            inner,
            started: false,
            head: [0; 3],
            head_len: 0,
            head_pos: 0,
        }
    }
}

impl<R> SkipBom<R> {
    /// Whether the input began with a byte-order mark (known after the first read).
    fn had_bom(&self) -> bool {
        self.head_len == UTF8_BOM.len() && self.head == UTF8_BOM
    }
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.started {
            // Short reads are legal, so loop until 3 bytes or the end are seen.
            while self.head_len < self.head.len() {
                let rest = self.head.get_mut(self.head_len..).unwrap_or_default();
                match self.inner.read(rest) {
                    Ok(0) => break,
                    Ok(n) => self.head_len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.started = true;
            if self.head == UTF8_BOM && self.head_len == 3 {
                self.head_pos = 3;
            }
        }
        if self.head_pos < self.head_len {
            let rest = self
                .head
                .get(self.head_pos..self.head_len)
                .unwrap_or_default();
            let n = rest.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.head_pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Counts the bytes handed to a parser, and stops one record from taking more than
/// `max_record_bytes`.
///
/// The count tells whether a CSV record ended with a line feed or with the end of the file
/// (see [`CsvRecords::start_line`]). The cap keeps memory bounded when one record would
/// otherwise be the rest of the file (an unclosed quote in CSV, a huge string in JSON): the
/// parsers hold a whole record. Parsers read ahead a buffer, so the cap is approximate by
/// that buffer's size.
struct Metered<R> {
    inner: R,
    total: u64,
    last: Option<u8>,
    /// Whether the inner reader reported its end.
    eof: bool,
    /// `total` where the current record started.
    mark: u64,
    max_record_bytes: u64,
}

/// The marker inside the I/O error [`Metered`] returns when a record is too large.
#[derive(Debug, Error)]
#[error("enregistrement trop grand")]
struct RecordTooLarge;

impl<R> Metered<R> {
    fn new(inner: R, max_record_bytes: u64) -> Self {
        Metered {
            inner,
            total: 0,
            last: None,
            eof: false,
            mark: 0,
            max_record_bytes,
        }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.total.saturating_sub(self.mark) > self.max_record_bytes {
            return Err(io::Error::other(RecordTooLarge));
        }
        let n = self.inner.read(buf)?;
        if let Some(last) = n.checked_sub(1).and_then(|i| buf.get(i)) {
            self.total += n as u64;
            self.last = Some(*last);
        } else if !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}

/// Maps an I/O error, recognising [`Metered`]'s cap as a refusal.
fn io_error(e: io::Error, max_record_bytes: u64) -> ReadError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<RecordTooLarge>())
    {
        ReadError::refused(
            FileCode::FichierTropGrand,
            format!("un enregistrement dépasse {max_record_bytes} octets (guillemet non fermé ?)"),
        )
    } else {
        ReadError::Io(e)
    }
}

fn csv_error(e: csv::Error, max_record_bytes: u64) -> ReadError {
    // Reading bytes with `flexible` on, the only csv error left is the input's own.
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io_error(e, max_record_bytes),
        other => ReadError::Io(io::Error::other(format!("{other:?}"))),
    }
}

/// A streaming reader of a CSV file (exchange.md §1): `;`, RFC 4180 quotes, LF or CRLF,
/// UTF-8 or Windows-1252 (see [`crate::encoding`]).
///
/// The header is read and checked by the constructor; records then come one at a time from
/// [`CsvRecords::next_record`] or the `Iterator` implementation. Memory is one record.
pub struct CsvRecords<R: Read> {
    reader: csv::Reader<Metered<SkipBom<R>>>,
    buf: csv::ByteRecord,
    layout: Layout,
    decoder: Decoder,
    warnings: Vec<FileMessage>,
    count: u64,
    limits: Limits,
    done: bool,
}

impl<R: Read> fmt::Debug for CsvRecords<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvRecords")
            .field("count", &self.count)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Read> CsvRecords<R> {
    /// Reads and checks the header, with the spec's limit of [`MAX_RECORDS`].
    ///
    /// # Errors
    /// `ENCODAGE_INVALIDE`, `ENTETE_INVALIDE`, `FICHIER_VIDE` (nothing at all) or an I/O error.
    pub fn new(input: R, columns: &'static [Column]) -> Result<Self, ReadError> {
        Self::with_limits(input, columns, Limits::default())
    }

    /// As [`CsvRecords::new`], with other limits (tests use small ones).
    ///
    /// # Errors
    /// As [`CsvRecords::new`].
    pub fn with_limits(
        input: R,
        columns: &'static [Column],
        limits: Limits,
    ) -> Result<Self, ReadError> {
        Self::with_encoding(input, columns, limits, CsvEncoding::Auto)
    }

    /// As [`CsvRecords::with_limits`], reading the bytes as `encoding` says (the sender's
    /// `?encodage=`; [`CsvEncoding::Auto`] is the spec's default).
    ///
    /// # Errors
    /// As [`CsvRecords::new`].
    pub fn with_encoding(
        input: R,
        columns: &'static [Column],
        limits: Limits,
        encoding: CsvEncoding,
    ) -> Result<Self, ReadError> {
        let mut decoder = Decoder::new(encoding);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            // Field counts are checked here, to report NB_COLONNES per line.
            .flexible(true)
            // Only LF ends a record: csv's CRLF mode ends it on the CR and counts the LF
            // with the next record, which would break line numbers. The CR is taken off the
            // last field instead (`utf8_fields`).
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(Metered::new(SkipBom::new(input), limits.max_record_bytes));
        let mut buf = csv::ByteRecord::new();
        let mut warnings = Vec::new();
        loop {
            let more = reader.read_byte_record(&mut buf);
            if !more.map_err(|e| csv_error(e, limits.max_record_bytes))? {
                return Err(empty_file());
            }
            if reader.get_ref().inner.had_bom() {
                decoder.utf8_declared();
            }
            let line = buf.position().map_or(1, csv::Position::line);
            let names = decode_fields(&mut decoder, &buf, line, &mut warnings)?;
            if is_blank(&names) {
                continue;
            }
            let layout = Layout::from_header(columns, &names, &mut warnings)?;
            return Ok(CsvRecords {
                reader,
                buf,
                layout,
                decoder,
                warnings,
                count: 0,
                limits,
                done: false,
            });
        }
    }

    /// The file-level warnings: `COLONNE_IGNOREE`, known once the header is read, and
    /// `ENCODAGE_WINDOWS_1252`, known once a record that is not UTF-8 is read (all of them
    /// at the end).
    pub fn warnings(&self) -> &[FileMessage] {
        &self.warnings
    }

    /// Number of records yielded so far.
    pub fn records_read(&self) -> u64 {
        self.count
    }

    /// The next record, `Ok(None)` at the end.
    ///
    /// # Errors
    /// A file-level refusal (`ENCODAGE_INVALIDE`, `FICHIER_VIDE`, `FICHIER_TROP_GRAND`) or an
    /// I/O error; see the module documentation for the rollback it implies.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let next = self.read_next();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next
    }

    /// The physical line where the record just read starts.
    ///
    /// csv's own record position does not count the empty lines skipped before a record, so
    /// the line is worked out backwards from the line feeds consumed so far: minus those
    /// inside the record's quoted fields, minus its own terminating line feed, if it has one
    /// (it has none only when the file ends without a final line feed).
    ///
    /// A record is terminated when bytes follow it, or when the file's last byte is a line
    /// feed and the parser returned the record without having to see the end of the input:
    /// it ends a record on its line feed, while a quote left open at the end of the file
    /// (whose last line feed is then inside the field) only ends at the end of the input.
    fn start_line(&self) -> u64 {
        let position = self.reader.position();
        let counted = self.reader.get_ref();
        let terminated =
            position.byte() < counted.total || (counted.last == Some(b'\n') && !counted.eof);
        let inside: usize = self
            .buf
            .iter()
            .map(|f| f.iter().filter(|b| **b == b'\n').count())
            .sum();
        position
            .line()
            .saturating_sub(inside as u64)
            .saturating_sub(u64::from(terminated))
    }

    fn read_next(&mut self) -> Result<Option<Record>, ReadError> {
        loop {
            let start = self.reader.position().byte();
            self.reader.get_mut().mark = start;
            let more = self.reader.read_byte_record(&mut self.buf);
            if !more.map_err(|e| csv_error(e, self.limits.max_record_bytes))? {
                return if self.count == 0 {
                    Err(empty_file())
                } else {
                    Ok(None)
                };
            }
            let line = self.start_line();
            let fields = decode_fields(&mut self.decoder, &self.buf, line, &mut self.warnings)?;
            if is_blank(&fields) {
                continue;
            }
            self.count += 1;
            if self.count > self.limits.max_records {
                return Err(too_many_records(self.limits.max_records));
            }
            return Ok(Some(self.layout.record(line, &fields)));
        }
    }
}

impl<R: Read> Iterator for CsvRecords<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// The fields of a record (starting on `line`) as text, or `ENCODAGE_INVALIDE` naming the
/// line; the first record read as Windows-1252 adds the warning `ENCODAGE_WINDOWS_1252`.
///
/// The CR of a CRLF line end is taken off the last field here (only LF ends a record).
fn decode_fields<'a>(
    decoder: &mut Decoder,
    record: &'a csv::ByteRecord,
    line: u64,
    warnings: &mut Vec<FileMessage>,
) -> Result<Vec<Cow<'a, str>>, ReadError> {
    let warned = decoder.read_windows_1252();
    let mut fields = decoder
        .decode(record.iter(), line)
        .map_err(|e| ReadError::refused(FileCode::EncodageInvalide, e.message(line)))?;
    if !warned && decoder.read_windows_1252() {
        warnings.push(FileMessage::new(
            FileCode::EncodageWindows1252,
            format!(
                "le fichier n'est pas en UTF-8 (ligne {line}) : il a été lu en Windows-1252, \
                 l'encodage des fichiers CSV d'Excel sous Windows ; vérifiez les accents"
            ),
        ));
    }
    match fields.last_mut() {
        Some(Cow::Borrowed(last)) => *last = last.strip_suffix('\r').unwrap_or(last),
        Some(Cow::Owned(last)) if last.ends_with('\r') => {
            last.pop();
        }
        _ => {}
    }
    Ok(fields)
}

/// Whether a line carries no value at all: an empty line, or `;;;` as spreadsheets write for
/// empty rows, which the spec's "empty lines are ignored" is meant to cover.
fn is_blank<S: AsRef<str>>(fields: &[S]) -> bool {
    fields.iter().all(|f| f.as_ref().trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// One JSON object, its members in order; anything but string values is refused.
struct JsonObject(Vec<(String, String)>);

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = JsonObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonObject, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<String>()?;
                    members.push((key, value));
                }
                Ok(JsonObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

fn json_invalid(detail: impl fmt::Display) -> ReadError {
    ReadError::refused(
        FileCode::JsonInvalide,
        format!(
            "corps JSON invalide : un tableau d'objets dont les valeurs sont des chaînes est \
             attendu ({detail})"
        ),
    )
}

fn json_error(e: serde_json::Error, max_record_bytes: u64) -> ReadError {
    if e.is_io() {
        return io_error(io::Error::from(e), max_record_bytes);
    }
    // serde_json's text is English; the position is what helps the sender.
    json_invalid(format_args!(
        "erreur dans l'élément à la ligne {}, colonne {}",
        e.line(),
        e.column()
    ))
}

/// A streaming reader of a JSON body (api.md "Transmissions"): an array of objects whose keys
/// are column names (case-insensitive) and whose values are strings.
///
/// The array is read element by element: memory is one object, whatever the body's size.
/// A missing key is an empty value; each distinct unknown key gives one `COLONNE_IGNOREE`
/// (found while streaming, so [`JsonRecords::warnings`] is complete only at the end). A key
/// given twice in one object (case-insensitively) is `JSON_INVALIDE`.
pub struct JsonRecords<R: Read> {
    input: BufReader<Metered<SkipBom<R>>>,
    columns: &'static [Column],
    warnings: Vec<FileMessage>,
    unknown: HashSet<String>,
    count: u64,
    limits: Limits,
    started: bool,
    done: bool,
}

impl<R: Read> fmt::Debug for JsonRecords<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonRecords")
            .field("count", &self.count)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Read> JsonRecords<R> {
    /// A reader with the spec's limit of [`MAX_RECORDS`]; nothing is read yet.
    pub fn new(input: R, columns: &'static [Column]) -> Self {
        Self::with_limits(input, columns, Limits::default())
    }

    /// As [`JsonRecords::new`], with other limits (tests use small ones).
    pub fn with_limits(input: R, columns: &'static [Column], limits: Limits) -> Self {
        JsonRecords {
            input: BufReader::new(Metered::new(SkipBom::new(input), limits.max_record_bytes)),
            columns,
            warnings: Vec::new(),
            unknown: HashSet::new(),
            count: 0,
            limits,
            started: false,
            done: false,
        }
    }

    /// The `COLONNE_IGNOREE` warnings found so far (all of them once the end is reached).
    pub fn warnings(&self) -> &[FileMessage] {
        &self.warnings
    }

    /// Number of records yielded so far.
    pub fn records_read(&self) -> u64 {
        self.count
    }

    /// The next record, `Ok(None)` at the end.
    ///
    /// # Errors
    /// `JSON_INVALIDE`, `FICHIER_VIDE`, `FICHIER_TROP_GRAND` or an I/O error; see the module
    /// documentation for the rollback it implies.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let next = self.read_next();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next
    }

    /// The next byte that is not JSON whitespace, left in the buffer.
    fn peek_token(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, self.limits.max_record_bytes)),
            };
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            let skip = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .count();
            if skip == 0 {
                return Ok(Some(first));
            }
            self.input.consume(skip);
        }
    }

    fn next_token(&mut self) -> Result<Option<u8>, ReadError> {
        let token = self.peek_token()?;
        if token.is_some() {
            self.input.consume(1);
        }
        Ok(token)
    }

    /// After `]`: only whitespace may follow.
    fn end_of_array(&mut self) -> Result<Option<Record>, ReadError> {
        if self.peek_token()?.is_some() {
            return Err(json_invalid("contenu après la fin du tableau"));
        }
        if self.count == 0 {
            return Err(empty_file());
        }
        Ok(None)
    }

    fn read_next(&mut self) -> Result<Option<Record>, ReadError> {
        if self.started {
            match self.next_token()? {
                Some(b',') => {}
                Some(b']') => return self.end_of_array(),
                _ => return Err(json_invalid("« , » ou « ] » attendu entre les éléments")),
            }
        } else {
            self.started = true;
            if self.next_token()? != Some(b'[') {
                return Err(json_invalid("le corps doit commencer par « [ »"));
            }
            if self.peek_token()? == Some(b']') {
                self.input.consume(1);
                return self.end_of_array();
            }
        }
        // The object ends with `}`, so serde_json reads no byte past it: the next
        // separator is still in `input`.
        let input = self.input.get_mut();
        input.mark = input.total;
        let mut de = serde_json::Deserializer::from_reader(&mut self.input);
        let max_record_bytes = self.limits.max_record_bytes;
        let object =
            JsonObject::deserialize(&mut de).map_err(|e| json_error(e, max_record_bytes))?;
        self.count += 1;
        if self.count > self.limits.max_records {
            return Err(too_many_records(self.limits.max_records));
        }
        let mut raw = vec![String::new(); self.columns.len()];
        let mut set = vec![false; self.columns.len()];
        for (key, value) in object.0 {
            let name = key.trim();
            let index = self
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name));
            match index.and_then(|ci| raw.get_mut(ci).zip(set.get_mut(ci))) {
                Some((_, true)) => {
                    return Err(json_invalid(format_args!(
                        "clé « {name} » en double dans l'élément {}",
                        self.count - 1
                    )));
                }
                Some((slot, done)) => {
                    *slot = value;
                    *done = true;
                }
                None => {
                    if self.unknown.insert(name.to_lowercase()) {
                        self.warnings.push(ignored_column(name));
                    }
                }
            }
        }
        Ok(Some(Record {
            line: self.count + 1,
            raw,
            error: None,
        }))
    }
}

impl<R: Read> Iterator for JsonRecords<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// CSV execution report
// ---------------------------------------------------------------------------------------------

/// Writes the CSV execution report (exchange.md §6) line by line: the sender's values in the
/// format's column order, then `STATUT_LIGNE;CODE_ERREUR;MESSAGE`.
///
/// The output starts with a UTF-8 byte-order mark so that spreadsheets open it as UTF-8; the
/// reader ignores it. Lines end with CRLF (RFC 4180). Every cell a spreadsheet would take
/// for a formula is neutralised ([`cells::neutralise`]); the reader undoes it, so the report
/// sent back gives the values first sent.
pub struct ReportWriter<W: Write> {
    writer: csv::Writer<W>,
    width: usize,
}

impl<W: Write> fmt::Debug for ReportWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportWriter")
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

impl<W: Write> ReportWriter<W> {
    /// Writes the byte-order mark and the header.
    ///
    /// # Errors
    /// The output's error.
    pub fn new(mut output: W, columns: &[Column]) -> io::Result<Self> {
        output.write_all(&UTF8_BOM)?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(output);
        writer.write_record(
            columns
                .iter()
                .map(|c| c.name)
                .chain(REPORT_COLUMNS.iter().copied()),
        )?;
        Ok(ReportWriter {
            writer,
            width: columns.len(),
        })
    }

    /// Writes one line: `raw` in the format's column order (padded or cut to the number of
    /// columns), its status, and its codes and messages in the order given.
    ///
    /// # Errors
    /// The output's error.
    pub fn write_line<S: AsRef<str>>(
        &mut self,
        raw: &[S],
        status: LineStatus,
        messages: &[LineMessage],
    ) -> io::Result<()> {
        let codes: Vec<&str> = messages.iter().map(|m| m.code.code()).collect();
        let texts: Vec<&str> = messages.iter().map(|m| m.message.as_str()).collect();
        self.write_row(raw, status.code(), &codes.join("|"), &texts.join(" | "))
    }

    /// Writes one line of a refused file: `REJETE` with the file-level code.
    ///
    /// # Errors
    /// The output's error.
    pub fn write_refused_line<S: AsRef<str>>(
        &mut self,
        raw: &[S],
        refusal: &FileMessage,
    ) -> io::Result<()> {
        self.write_row(
            raw,
            LineStatus::Rejete.code(),
            refusal.code.code(),
            &refusal.message,
        )
    }

    fn write_row<S: AsRef<str>>(
        &mut self,
        raw: &[S],
        status: &str,
        codes: &str,
        messages: &str,
    ) -> io::Result<()> {
        let values = raw
            .iter()
            .map(AsRef::as_ref)
            .chain(std::iter::repeat(""))
            .take(self.width);
        self.writer.write_record(
            values
                .chain([status, codes, messages])
                .map(|v| Cell(cells::neutralise(v))),
        )?;
        Ok(())
    }

    /// Flushes and gives the output back.
    ///
    /// # Errors
    /// The output's error.
    pub fn finish(self) -> io::Result<W> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}

/// A cell as the csv writer takes it.
struct Cell<'a>(Cow<'a, str>);

impl AsRef<[u8]> for Cell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COLS: &[Column] = &[
        Column::new("NIR", Requirement::Mandatory),
        Column::new("NOM", Requirement::Mandatory),
        Column::new("SIRET", Requirement::Conditional),
        Column::new("COMMENTAIRE", Requirement::Optional),
    ];

    fn records(max_records: u64) -> Limits {
        Limits {
            max_records,
            ..Limits::default()
        }
    }

    fn csv(input: &[u8]) -> Result<CsvRecords<&[u8]>, ReadError> {
        CsvRecords::new(input, COLS)
    }

    /// All records, or the first error.
    fn read_all(input: &[u8]) -> Result<Vec<Record>, ReadError> {
        csv(input)?.collect()
    }

    fn code_of(e: &ReadError) -> Option<FileCode> {
        e.file_code()
    }

    fn values(r: &Record) -> Vec<&str> {
        (0..COLS.len()).map(|i| r.get(i)).collect()
    }

    #[test]
    fn reads_records_in_format_order_with_line_numbers() {
        let recs = read_all(b"nom ; Nir;SIRET\n Dupont ;1;2\nMartin;3;4\n").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(values(&recs[0]), ["1", "Dupont", "2", ""]);
        assert_eq!(recs[0].raw()[1], " Dupont ");
        assert_eq!(recs[0].line(), 2);
        assert_eq!(recs[1].line(), 3);
        assert!(recs[0].error().is_none());
        assert_eq!(recs[0].get(99), "");
    }

    #[test]
    fn bom_and_crlf() {
        let recs = read_all(b"\xEF\xBB\xBFNIR;NOM;SIRET\r\n1;a;2\r\n3;b;4").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(values(&recs[1]), ["3", "b", "4", ""]);
        assert_eq!(recs[1].line(), 3);
    }

    #[test]
    fn bom_before_quoted_header() {
        let recs = read_all(b"\xEF\xBB\xBF\"NIR\";NOM;SIRET\n1;a;2\n").unwrap();
        assert_eq!(values(&recs[0]), ["1", "a", "2", ""]);
    }

    #[test]
    fn quotes_doubled_quotes_separators_and_newlines() {
        let input = "NIR;NOM;SIRET;COMMENTAIRE\n1;\"D'Arc; \"\"Jeanne\"\"\";2;\"ligne 1\r\nligne 2\nligne 3\"\n4;b;5;\n";
        let recs = read_all(input.as_bytes()).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].get(1), "D'Arc; \"Jeanne\"");
        assert_eq!(recs[0].get(3), "ligne 1\r\nligne 2\nligne 3");
        assert_eq!(recs[0].line(), 2);
        // The multi-line field spans lines 2 to 4: the next record starts on line 5.
        assert_eq!(recs[1].line(), 5);
    }

    #[test]
    fn empty_and_blank_lines_are_ignored_but_counted() {
        let recs = read_all(b"NIR;NOM;SIRET\n\n1;a;2\r\n\r\n;;\n\n3;b;4\n\n").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].line(), 3);
        assert_eq!(recs[1].line(), 7);
    }

    #[test]
    fn header_duplicates_missing_and_empty_names() {
        let e = read_all(b"NIR;nom;Nom;SIRET\n1;2;3;4\n").unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EnteteInvalide));
        assert!(e.to_string().contains("en double : Nom"), "{e}");

        let e = read_all(b"NIR;COMMENTAIRE\n1;2\n").unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EnteteInvalide));
        // Conditional columns are required in the header too.
        assert!(e.to_string().contains("manquante(s) : NOM, SIRET"), "{e}");

        let e = read_all(b"NIR;NOM; ;SIRET\n1;2;3;4\n").unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EnteteInvalide));
        assert!(e.to_string().contains("vide en position 3"), "{e}");

        let e = read_all(b"NOM;NIR;nom;SIRET;Nom\n1;2;3;4;5\n").unwrap_err();
        assert!(e.to_string().ends_with("en double : nom"), "{e}");

        let e = read_all(b"NIR;NOM;SIRET;X;x\n1;2;3;4;5\n").unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EnteteInvalide));
    }

    #[test]
    fn optional_column_may_be_absent() {
        let recs = read_all(b"SIRET;NOM;NIR\n1;2;3\n").unwrap();
        assert_eq!(values(&recs[0]), ["3", "2", "1", ""]);
    }

    #[test]
    fn extra_columns_warn_once_each_report_columns_silently_dropped() {
        let r = csv(
            b"NIR;AGE;NOM;SIRET;statut_ligne;Code_Erreur;MESSAGE;Ville\n1;2;3;4;REJETE;X;m;P\n",
        )
        .unwrap();
        let warnings: Vec<_> = r.warnings().to_vec();
        assert_eq!(warnings.len(), 2);
        assert!(warnings.iter().all(|w| w.code == FileCode::ColonneIgnoree));
        assert!(warnings[0].message.contains("AGE"));
        assert!(warnings[1].message.contains("Ville"));
        let recs: Vec<_> = r.collect::<Result<_, _>>().unwrap();
        assert_eq!(values(&recs[0]), ["1", "3", "4", ""]);
    }

    #[test]
    fn wrong_field_count_is_nb_colonnes_alone() {
        let recs = read_all(b"NIR;NOM;SIRET\n1;a;2;\n1;a;2;;\n1;a\n1;a;2;x\n").unwrap();
        assert_eq!(recs.len(), 4);
        // One trailing empty field is tolerated.
        assert!(recs[0].error().is_none());
        assert_eq!(values(&recs[0]), ["1", "a", "2", ""]);
        for r in &recs[1..] {
            let e = r.error().unwrap();
            assert_eq!(e.code, LineCode::NbColonnes);
            assert_eq!(e.field, None);
        }
        assert_eq!(recs[2].line(), 4);
        assert_eq!(values(&recs[2]), ["1", "a", "", ""]);
        assert!(recs[3].error().unwrap().message.contains("4 champ(s)"));
    }

    #[test]
    fn empty_file_and_header_only() {
        for input in [
            &b""[..],
            b"\xEF\xBB\xBF",
            b"\n\n",
            b"NIR;NOM;SIRET",
            b"NIR;NOM;SIRET\r\n\r\n;;\n",
        ] {
            let e = read_all(input).unwrap_err();
            assert_eq!(code_of(&e), Some(FileCode::FichierVide), "{input:?}");
        }
    }

    fn encoding_warnings(r: &CsvRecords<&[u8]>) -> usize {
        r.warnings()
            .iter()
            .filter(|w| w.code == FileCode::EncodageWindows1252)
            .count()
    }

    #[test]
    fn windows_1252_is_read_with_a_warning() {
        let mut r = csv(b"NIR;NOM;SIRET\r\n1;a;2\r\n3;LEF\xC8VRE;\"Groupe par d\xE9faut\"\r\n5;\x8Cuvre \x80;6\r\n")
            .unwrap();
        assert_eq!(encoding_warnings(&r), 0);
        let recs: Vec<Record> = r.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(values(&recs[1]), ["3", "LEFÈVRE", "Groupe par défaut", ""]);
        assert_eq!(values(&recs[2]), ["5", "Œuvre €", "6", ""]);
        assert_eq!(recs[2].line(), 4);
        assert_eq!(encoding_warnings(&r), 1);
        let w = &r.warnings()[0];
        assert_eq!(w.code.class(), CodeClass::FileWarning);
        assert!(w.message.contains("ligne 3"), "{}", w.message);
        // Stored text is Unicode: the same name as sent in UTF-8.
        let utf8 = read_all("NIR;NOM;SIRET\n3;LEFÈVRE;2\n".as_bytes()).unwrap();
        assert_eq!(utf8[0].get(1), recs[1].get(1));
        // A header read as Windows-1252 warns too.
        let r = csv(b"NIR;NOM;SIRET;Ann\xE9e\n1;a;2;3\n").unwrap();
        assert_eq!(encoding_warnings(&r), 1);
    }

    #[test]
    fn undefined_bytes_mixed_files_and_bom_are_encodage_invalide() {
        // Late: records already yielded, then the refusal, then nothing.
        let mut r = csv(b"NIR;NOM;SIRET\n1;a;2\n3;\xE9\x81;4\n5;c;6\n").unwrap();
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EncodageInvalide));
        assert!(e.to_string().contains("0x81 ligne 3"), "{e}");
        assert!(r.next().is_none());
        for input in [
            &b"NIR;NOM;SIRET\n1;\x8D;2\n"[..],
            b"NIR;NOM;SIRET\n1;\x8F;2\n",
            b"NIR;NOM;SIRET\n1;\x90;2\n",
            b"NIR;NOM;SIRET\n1;\x9D;2\n",
            // NUL read as Windows-1252 (UTF-16 with its byte-order mark).
            b"\xFF\xFEN\0I\0R\0\n",
            b"NIR;NOM;SIRET\n1;\xE9\0;2\n",
            // Valid non-ASCII UTF-8, then Windows-1252: mixed.
            b"NIR;NOM;SIRET\n1;Zo\xC3\xAB;2\n3;\xC8;4\n",
            b"\xEF\xBB\xBFNIR;NOM;SIRET\n1;\xE9;2\n",
        ] {
            let e = read_all(input).unwrap_err();
            assert_eq!(code_of(&e), Some(FileCode::EncodageInvalide), "{input:?}");
        }
        let mut mixed = "NIR;NOM;SIRET\n1;Zoë;2\n\n3;".as_bytes().to_vec();
        mixed.extend_from_slice(b"\xC8;4\n");
        let e = read_all(&mixed).unwrap_err();
        assert!(
            e.to_string().contains("UTF-8 ligne 2, autre chose ligne 4"),
            "{e}"
        );
        // NUL in UTF-8 is text (a JSON body's "\u0000" in a report sent back).
        assert_eq!(read_all(b"NIR;NOM;SIRET\n1;a\0;2\n").unwrap().len(), 1);
    }

    #[test]
    fn forced_encodings() {
        let latin = b"NIR;NOM;SIRET\n1;Ren\xE9;2\n";
        let forced = |input: &'static [u8], encoding| {
            CsvRecords::with_encoding(input, COLS, Limits::default(), encoding)
                .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        };
        let e = forced(latin, CsvEncoding::Utf8).unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EncodageInvalide));
        assert!(e.to_string().contains("ligne 2"));
        assert_eq!(
            forced(latin, CsvEncoding::Windows1252).unwrap()[0].get(1),
            "René"
        );
        // Valid UTF-8 forced to Windows-1252 is read as such.
        let utf8 = "NIR;NOM;SIRET\n1;René;2\n".as_bytes();
        assert_eq!(
            forced(utf8, CsvEncoding::Windows1252).unwrap()[0].get(1),
            "RenÃ©"
        );
        assert_eq!(forced(utf8, CsvEncoding::Utf8).unwrap()[0].get(1), "René");
        let r = CsvRecords::with_encoding(utf8, COLS, Limits::default(), CsvEncoding::Windows1252)
            .unwrap();
        let r: Vec<_> = r.collect::<Result<_, _>>().unwrap();
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn trailing_empty_header_names_are_dropped() {
        let r = csv(b"NIR;NOM;SIRET;\r\n1;a;2;\r\n3;b;4\r\n5;c;6;;\r\n7;d;8;x\r\n").unwrap();
        assert!(r.warnings().is_empty());
        let recs: Vec<Record> = r.collect::<Result<_, _>>().unwrap();
        assert!(recs[0].error().is_none());
        assert!(recs[1].error().is_none());
        // The dropped column plus one trailing empty field.
        assert!(recs[2].error().is_none());
        assert_eq!(values(&recs[2]), ["5", "c", "6", ""]);
        // A value under no name is a field too many.
        assert_eq!(recs[3].error().unwrap().code, LineCode::NbColonnes);
        // Several, quoted as the template's macro writes them.
        let recs = read_all(b"\"NIR\";\"NOM\";\"SIRET\";\"\";\"\"\r\n\"1\";\"a\";\"2\";\"\";\"\"\r\n1;a;2\r\n1;a\r\n")
            .unwrap();
        assert!(recs[0].error().is_none());
        assert!(recs[1].error().is_none());
        assert_eq!(recs[2].error().unwrap().code, LineCode::NbColonnes);
        // An empty name before a named column still refuses the header.
        let e = read_all(b"NIR;NOM;;SIRET;\n1;2;3;4\n").unwrap_err();
        assert!(e.to_string().contains("vide en position 3"), "{e}");
    }

    #[test]
    fn neutralised_cells_read_back_as_sent() {
        let recs = read_all(b"NIR;NOM;SIRET;COMMENTAIRE\n'=1+1;''@x;'abc;\"'\tx\"\n").unwrap();
        assert_eq!(recs[0].raw(), ["=1+1", "'@x", "'abc", "\tx"]);
        // JSON values are taken as they are.
        let recs = json(r#"[{"NIR": "'=1"}]"#).unwrap();
        assert_eq!(recs[0].raw()[0], "'=1");
    }

    #[test]
    fn too_many_records_with_small_limit() {
        let input = b"NIR;NOM;SIRET\n1;a;2\n\n3;b;4\n5;c;6\n";
        let ok: Result<Vec<_>, _> = CsvRecords::with_limits(&input[..], COLS, records(3))
            .unwrap()
            .collect();
        assert_eq!(ok.unwrap().len(), 3);
        let mut r = CsvRecords::with_limits(&input[..], COLS, records(2)).unwrap();
        assert!(r.next().unwrap().is_ok());
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::FichierTropGrand));
        assert!(r.next().is_none());
        assert_eq!(r.records_read(), 3);
    }

    #[test]
    fn io_error_is_not_a_refusal() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("coupure"))
            }
        }
        let e = CsvRecords::new(Failing, COLS).unwrap_err();
        assert!(matches!(e, ReadError::Io(_)));
        assert_eq!(e.file_code(), None);
    }

    #[test]
    fn crlf_multiline_field_and_missing_final_newline() {
        let input = "NIR;NOM;SIRET\r\n\r\n1;\"a\r\nb\r\n\";2\r\n\r\n3;b;\"4\"\r\n5;c;6";
        let recs = read_all(input.as_bytes()).unwrap();
        let lines: Vec<u64> = recs.iter().map(Record::line).collect();
        assert_eq!(lines, [3, 7, 8]);
        assert_eq!(recs[0].raw()[1], "a\r\nb\r\n");
        // The CR of the line end is not part of the last value.
        assert_eq!(recs[1].raw()[2], "4");
        assert_eq!(recs[2].raw()[2], "6");
    }

    /// Found by the fuzzing harness: a quote left open on the last line of a file ending with
    /// a line feed was numbered one line early, so two records had the same line.
    #[test]
    fn unclosed_quote_on_the_last_line_keeps_its_line() {
        for (input, expected) in [
            (&b"NIR;NOM;SIRET\n1;a;2\n\"x\n"[..], [2, 3]),
            (b"NIR;NOM;SIRET\n1;a;2\n\"x\r\n", [2, 3]),
            (b"NIR;NOM;SIRET\n1;a;2\n\"x\n\n\n", [2, 3]),
            (b"NIR;NOM;SIRET\n1;a;2\n3;\"b;4\n", [2, 3]),
            (b"NIR;NOM;SIRET\n1;a;2\n\n3;\"b\n\";4\n", [2, 4]),
            (b"NIR;NOM;SIRET\n1;a;2\n3;\"b\n\"\n", [2, 3]),
            (b"NIR;NOM;SIRET\n1;a;2\n3;\"b\n\"", [2, 3]),
        ] {
            let recs = read_all(input).unwrap();
            let lines: Vec<u64> = recs.iter().map(Record::line).collect();
            assert_eq!(lines, expected, "{:?}", String::from_utf8_lossy(input));
            // Read one byte at a time, the same.
            let bytes = input.iter().map(|b| Ok::<u8, io::Error>(*b));
            struct OneByte<I>(I);
            impl<I: Iterator<Item = io::Result<u8>>> Read for OneByte<I> {
                fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    match (self.0.next(), buf.first_mut()) {
                        (Some(b), Some(slot)) => {
                            *slot = b?;
                            Ok(1)
                        }
                        _ => Ok(0),
                    }
                }
            }
            let slow: Vec<Record> = CsvRecords::new(OneByte(bytes), COLS)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(slow, recs);
        }
    }

    #[test]
    fn oversized_record_is_refused_not_buffered() {
        let limits = Limits {
            max_records: 10,
            max_record_bytes: 64 * 1024,
        };
        // An unclosed quote would make the rest of the file one record.
        let mut input = b"NIR;NOM;SIRET\n1;\"a;2\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 200 * 1024));
        let mut r = CsvRecords::with_limits(&input[..], COLS, limits).unwrap();
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.file_code(), Some(FileCode::FichierTropGrand));
        // Many ordinary records are fine: the cap is per record.
        let mut many = b"NIR;NOM;SIRET\n".to_vec();
        for _ in 0..10 {
            many.extend_from_slice(&[b'y'; 10 * 1024]);
            many.extend_from_slice(b";a;b\n");
        }
        let ok: Result<Vec<_>, _> = CsvRecords::with_limits(&many[..], COLS, limits)
            .unwrap()
            .collect();
        assert_eq!(ok.unwrap().len(), 10);

        let mut json = br#"[{"NIR": "1"}, {"NOM": ""#.to_vec();
        json.extend(std::iter::repeat_n(b'x', 200 * 1024));
        json.extend_from_slice(br#""}]"#);
        let mut r = JsonRecords::with_limits(&json[..], COLS, limits);
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.file_code(), Some(FileCode::FichierTropGrand));
    }

    // ---- JSON

    fn json(input: &str) -> Result<Vec<Record>, ReadError> {
        JsonRecords::new(input.as_bytes(), COLS).collect()
    }

    #[test]
    fn json_records() {
        let mut r = JsonRecords::new(
            &br#" [ {"nir": " 1 ", "NOM": "a", "Age": "3"}, {"Nom": "b", "age": "4", "X": "5"} ] "#
                [..],
            COLS,
        );
        let recs: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(values(&recs[0]), ["1", "a", "", ""]);
        assert_eq!(recs[0].raw()[0], " 1 ");
        assert_eq!(values(&recs[1]), ["", "b", "", ""]);
        assert_eq!(recs[0].line(), 2);
        assert_eq!(recs[1].line(), 3);
        let w = r.warnings();
        assert_eq!(w.len(), 2);
        assert!(w.iter().all(|w| w.code == FileCode::ColonneIgnoree));
    }

    #[test]
    fn json_empty_array_is_fichier_vide() {
        for input in ["[]", " [ \n ] \n", "\u{FEFF}[]"] {
            let e = json(input).unwrap_err();
            assert_eq!(e.file_code(), Some(FileCode::FichierVide), "{input}");
        }
    }

    #[test]
    fn json_invalid_shapes() {
        for input in [
            "",
            "{}",
            r#"{"NIR": "1"}"#,
            "[1]",
            r#"[{"NIR": 1}]"#,
            r#"[{"NIR": null}]"#,
            r#"[{"NIR": "1"},]"#,
            r#"[{"NIR": "1"} {"NIR": "2"}]"#,
            r#"[{"NIR": "1"}] x"#,
            r#"[{"NIR": "1"}"#,
            r#"[{"NIR": "1", "nir": "2"}]"#,
            r#"[["1"]]"#,
        ] {
            let e = json(input).unwrap_err();
            assert_eq!(e.file_code(), Some(FileCode::JsonInvalide), "{input}");
        }
        let mut r = JsonRecords::new(&b"[{\"NOM\": \"\xE9\"}]"[..], COLS);
        assert_eq!(
            r.next().unwrap().unwrap_err().file_code(),
            Some(FileCode::JsonInvalide)
        );
    }

    #[test]
    fn json_late_error_after_records_then_fused() {
        let mut r = JsonRecords::new(&br#"[{"NIR": "1"}, {"NIR": 2}, {"NIR": "3"}]"#[..], COLS);
        assert!(r.next().unwrap().is_ok());
        assert!(r.next().unwrap().is_err());
        assert!(r.next().is_none());
    }

    #[test]
    fn json_too_many_records() {
        let input = br#"[{"NIR": "1"}, {"NIR": "2"}, {"NIR": "3"}]"#;
        let recs: Result<Vec<_>, _> =
            JsonRecords::with_limits(&input[..], COLS, records(3)).collect();
        assert_eq!(recs.unwrap().len(), 3);
        let e = JsonRecords::with_limits(&input[..], COLS, records(2))
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        assert_eq!(e.file_code(), Some(FileCode::FichierTropGrand));
    }

    // ---- Codes and messages

    #[test]
    fn code_vocabulary() {
        assert_eq!(LineCode::ALL.len(), 38);
        assert_eq!(FileCode::ALL.len(), 7);
        assert_eq!(
            FileCode::EncodageWindows1252.class(),
            CodeClass::FileWarning
        );
        let count = |class| LineCode::ALL.iter().filter(|c| c.class() == class).count();
        assert_eq!(count(CodeClass::Error), 31);
        assert_eq!(count(CodeClass::Hold), 2);
        assert_eq!(count(CodeClass::Warning), 5);
        assert_eq!(LineCode::NirCle.code(), "NIR_CLE");
        assert_eq!(LineCode::ClassementARevoir.code(), "CLASSEMENT_A_REVOIR");
        assert_eq!(LineCode::parse(" nir_cle "), Some(LineCode::NirCle));
        assert_eq!(FileCode::ColonneIgnoree.class(), CodeClass::FileWarning);
        assert_eq!(FileCode::FichierVide.class(), CodeClass::FileRefusal);
        assert_eq!(LineStatus::EnAttente.to_string(), "EN_ATTENTE");
        // Spec order is the derived order.
        assert!(LineCode::NirFormat < LineCode::NirCle);
        assert!(LineCode::RejetGestionnaire < LineCode::IdentiteIncoherente);
        for c in LineCode::ALL {
            assert_eq!(LineCode::parse(c.code()), Some(*c));
            assert!(
                c.code()
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_')
            );
        }
    }

    #[test]
    fn messages_name_the_field_and_form() {
        let err = crate::values::parse_date("31/02/2025").unwrap_err();
        let m = LineMessage::from_value_error(LineCode::DateFormat, "DATENAISSANCE", &err);
        assert_eq!(m.field, Some("DATENAISSANCE"));
        assert_eq!(
            m.message,
            "DATENAISSANCE : date attendue au format JJ/MM/AAAA"
        );
        assert!(LineMessage::mandatory("NIR").message.starts_with("NIR : "));
    }

    // ---- Report

    fn report(lines: &[(Vec<&str>, LineStatus, Vec<LineMessage>)]) -> Vec<u8> {
        let mut w = ReportWriter::new(Vec::new(), COLS).unwrap();
        for (raw, status, messages) in lines {
            w.write_line(raw, *status, messages).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn report_layout_and_quoting() {
        let out = report(&[
            (
                vec!["1", "a;\"b\"", "2", "x\ny"],
                LineStatus::Rejete,
                vec![
                    LineMessage::for_field(LineCode::NirFormat, "NIR", "13 caractères attendus"),
                    LineMessage::mandatory("SIRET"),
                ],
            ),
            (vec!["3"], LineStatus::Accepte, vec![]),
        ]);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "\u{FEFF}NIR;NOM;SIRET;COMMENTAIRE;STATUT_LIGNE;CODE_ERREUR;MESSAGE\r\n\
             1;\"a;\"\"b\"\"\";2;\"x\ny\";REJETE;NIR_FORMAT|CHAMP_OBLIGATOIRE;\
             NIR : 13 caractères attendus | SIRET : valeur obligatoire, la case est vide\r\n\
             3;;;;ACCEPTE;;\r\n"
        );
    }

    #[test]
    fn report_neutralises_formulas_and_reads_back() {
        let hostile = [
            "=HYPERLINK(\"http://evil.example\";\"clic\")",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "+1",
            "-1",
        ];
        let lines = [
            (hostile.to_vec(), LineStatus::Rejete, vec![]),
            (vec!["\t1", "\r2", "'=3", "ok"], LineStatus::Accepte, vec![]),
        ];
        let out = report(&lines);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains(
                "\r\n\"'=HYPERLINK(\"\"http://evil.example\"\";\"\"clic\"\")\";\
                 '@SUM(1+1)*cmd|' /C calc'!A0;'+1;'-1;REJETE;;\r\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\r\n'\t1;\"'\r2\";''=3;ok;ACCEPTE;;\r\n"),
            "{text}"
        );
        // No cell of the report begins with a formula character.
        let mut r = ::csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(&out[3..]);
        for row in r.records() {
            for cell in &row.unwrap() {
                assert!(
                    !cell.starts_with(crate::cells::FORMULA_TRIGGERS),
                    "{cell:?}"
                );
            }
        }
        let back = read_all(&out).unwrap();
        assert_eq!(back[0].raw(), hostile);
        assert_eq!(back[1].raw(), ["\t1", "\r2", "'=3", "ok"]);
    }

    #[test]
    fn refused_file_line() {
        let mut w = ReportWriter::new(Vec::new(), COLS).unwrap();
        let refusal = FileMessage::new(FileCode::EnteteInvalide, "en-tête invalide");
        w.write_refused_line(&["1", "a", "2", ""], &refusal)
            .unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(text.ends_with("1;a;2;;REJETE;ENTETE_INVALIDE;en-tête invalide\r\n"));
    }

    #[test]
    fn report_reads_back_as_the_same_records() {
        let input = "NOM;NIR;SIRET;COMMENTAIRE\n\"a;b\";1;2;\"deux\nlignes\"\nc;3;;\n";
        let recs = read_all(input.as_bytes()).unwrap();
        let lines: Vec<_> = recs
            .iter()
            .map(|r| {
                let raw: Vec<&str> = r.raw().iter().map(String::as_str).collect();
                (
                    raw,
                    LineStatus::Rejete,
                    vec![LineMessage::mandatory("SIRET")],
                )
            })
            .collect();
        let back = read_all(&report(&lines)).unwrap();
        let raws = |rs: &[Record]| rs.iter().map(|r| r.raw().to_vec()).collect::<Vec<_>>();
        assert_eq!(raws(&back), raws(&recs));
        let out = report(&lines);
        let r = csv(&out).unwrap();
        assert!(r.warnings().is_empty());
    }

    /// Found by the fuzzing harness: `resultats` has its own `STATUT` column, so its report
    /// header named `STATUT` twice and a report sent back was refused with `ENTETE_INVALIDE`.
    #[test]
    fn report_of_a_format_with_a_statut_column_reads_back() {
        const WITH_STATUT: &[Column] = &[
            Column::new("NIR", Requirement::Mandatory),
            Column::new("STATUT", Requirement::Mandatory),
        ];
        let input = b"NIR;STATUT\n1;MESURE\n";
        let recs: Vec<Record> = CsvRecords::new(&input[..], WITH_STATUT)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut w = ReportWriter::new(Vec::new(), WITH_STATUT).unwrap();
        w.write_line(
            recs[0].raw(),
            LineStatus::Rejete,
            &[LineMessage::mandatory("NIR")],
        )
        .unwrap();
        let out = w.finish().unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("\u{FEFF}NIR;STATUT;STATUT_LIGNE;CODE_ERREUR;MESSAGE\r\n"),
            "{text}"
        );
        let back = CsvRecords::new(&out[..], WITH_STATUT).unwrap();
        assert!(back.warnings().is_empty());
        let back: Vec<Record> = back.collect::<Result<_, _>>().unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].raw(), ["1", "MESURE"]);
        assert!(back[0].error().is_none());

        // A report written before STATUT_LIGNE: the first occurrence is the format's, the
        // second the report's, a third a duplicate.
        let back: Vec<Record> = CsvRecords::new(
            &b"statut;NIR;Statut;CODE_ERREUR;MESSAGE\nINF_SEUIL;2;ACCEPTE;;\n"[..],
            WITH_STATUT,
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
        assert_eq!(back[0].raw(), ["2", "INF_SEUIL"]);
        let e =
            CsvRecords::new(&b"NIR;STATUT;STATUT;statut\n1;2;3;4\n"[..], WITH_STATUT).unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EnteteInvalide));
        assert!(e.to_string().ends_with("en double : statut"), "{e}");
        // A format without such a column still drops the old report's silently, once.
        let r = csv(b"NIR;NOM;SIRET;STATUT;CODE_ERREUR;MESSAGE\n1;2;3;REJETE;X;m\n").unwrap();
        assert!(r.warnings().is_empty());
        let e = read_all(b"NIR;NOM;SIRET;STATUT;STATUT\n1;2;3;4;5\n").unwrap_err();
        assert_eq!(code_of(&e), Some(FileCode::EnteteInvalide));
    }

    proptest! {
        #[test]
        fn csv_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(r) = CsvRecords::with_limits(&bytes[..], COLS, records(5)) {
                for item in r {
                    let _ = item;
                }
            }
        }

        #[test]
        fn csv_reader_never_panics_on_near_csv(s in "[NIROMSET;\"\r\n a\u{e9}]{0,200}") {
            let input = format!("NIR;NOM;SIRET\n{s}");
            if let Ok(r) = CsvRecords::with_limits(input.as_bytes(), COLS, records(5)) {
                for item in r {
                    let _ = item;
                }
            }
        }

        #[test]
        fn line_numbers_match_physical_lines(
            rows in proptest::collection::vec(
                (0usize..3, any::<bool>(), "[a-z ]{0,3}", 0usize..3, any::<bool>()),
                1..12,
            ),
            final_newline in any::<bool>(),
        ) {
            // (empty lines before, CRLF?, value, newlines inside a quoted field, trailing ;)
            let mut text = String::from("NIR;NOM;SIRET\n");
            let mut line = 2u64;
            let mut expected = Vec::new();
            for (i, (blank, crlf, value, inside, trailing)) in rows.iter().enumerate() {
                let end = if *crlf { "\r\n" } else { "\n" };
                for _ in 0..*blank {
                    text.push_str(end);
                    line += 1;
                }
                expected.push(line);
                let quoted = format!("\"{value}{}\"", "\n".repeat(*inside));
                text.push_str(&format!("x;{quoted};z{}", if *trailing { ";" } else { "" }));
                line += *inside as u64;
                if i + 1 < rows.len() || final_newline {
                    text.push_str(end);
                    line += 1;
                }
            }
            let recs = read_all(text.as_bytes()).unwrap();
            let lines: Vec<u64> = recs.iter().map(Record::line).collect();
            prop_assert_eq!(lines, expected);
            prop_assert!(recs.iter().all(|r| r.error().is_none() && r.get(2) == "z"));
        }

        #[test]
        fn json_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            for item in JsonRecords::with_limits(&bytes[..], COLS, records(5)) {
                let _ = item;
            }
        }

        #[test]
        fn report_round_trips(
            rows in proptest::collection::vec(
                proptest::collection::vec(any::<String>(), 4),
                1..8,
            ),
            message in any::<String>(),
        ) {
            let lines: Vec<_> = rows
                .iter()
                .map(|raw| {
                    let raw: Vec<&str> = raw.iter().map(String::as_str).collect();
                    let m = LineMessage::for_line(LineCode::ValeurArrondie, &message);
                    (raw, LineStatus::Accepte, vec![m])
                })
                .collect();
            let back = read_all(&report(&lines)).unwrap();
            let raws: Vec<Vec<String>> = back.iter().map(|r| r.raw().to_vec()).collect();
            prop_assert_eq!(raws, rows);
        }
    }
}
