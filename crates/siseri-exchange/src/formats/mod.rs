//! The line checks of the three exchange formats (exchange.md §2–§4): every check that needs
//! nothing from the registry, turning one [`Record`] into a typed line or a list of codes.
//!
//! Each format module declares its `COLUMNS` (the spec's order and spellings) and a
//! `check(record, today)` function. Every check whose inputs parsed is run, several codes
//! per line; a check depending on a field that failed is skipped (no `NIR_CLE` after
//! `NIR_FORMAT`). Codes are ordered by column, then by the order of [`LineCode`]. The
//! column order is the format's: the reader maps the sender's columns onto it and the CSV
//! report writes them back in that order, so that is the order the sender sees.
//!
//! Not done here, because they need the registry: they are the importer's, which runs them
//! on lines whose `value` is present and merges its codes in the same order:
//! `ETABLISSEMENT_INCONNU`, `SIRET_HORS_ENTREPRISE`, `NATURE_NON_ACCREDITEE`,
//! `IDENTITE_INCOHERENTE`, `TRAVAILLEUR_INCONNU`, `RATTACHEMENT_ABSENT`, `DOUBLON`,
//! `REFERENCE_CONFLIT`, `CORRECTION_SANS_ORIGINE`, `CLASSEMENT_A_REVOIR`.

pub mod operational;
pub mod results;
pub mod workers;

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use siseri_domain::codes::{Nature, Sex};
use siseri_domain::result::Reference;
use siseri_domain::{Nir, Siret};

use crate::records::{CodeClass, Column, LineCode, LineMessage, Record};
use crate::values::{
    NAME_MAX_CHARS, ValueError, is_valid_name, parse_date, parse_datetime, parse_dose_msv,
    parse_fraction_thousandths,
};

/// The outcome of the registry-free checks of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<T> {
    /// The physical line of the record (header = 1).
    pub line: u64,
    /// Every code found, errors and warnings, ordered by column then by code.
    pub messages: Vec<LineMessage>,
    /// The typed line, present only when no error was found (warnings allowed).
    pub value: Option<T>,
    /// The fields that parsed, even on a rejected line: the registry's checks run on
    /// whatever their inputs allow (§6).
    pub keys: Keys,
}

/// The fields the registry's checks need, each present when it parsed on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// The NIR, when it parsed and its key (if the format has one) matched: no identity is
    /// compared through a NIR that may be mistyped.
    pub nir: Option<Nir>,
    /// Birth name as sent.
    pub nom: Option<String>,
    /// First name as sent.
    pub prenom: Option<String>,
    /// Date of birth.
    pub date_naissance: Option<NaiveDate>,
    /// The establishment.
    pub siret: Option<Siret>,
    /// The nature (`resultats`).
    pub nature: Option<Nature>,
    /// The sender's reference (`resultats`).
    pub reference: Option<Reference>,
    /// `CODE_METROLOGIE = C`.
    pub correction: Option<bool>,
}

impl<T> Checked<T> {
    /// Whether a code rejects the line.
    pub fn has_errors(&self) -> bool {
        self.messages
            .iter()
            .any(|m| m.code.class() == CodeClass::Error)
    }

    /// The messages the report shows (§6): a rejected line lists its error and hold codes,
    /// not its warnings; any other line lists everything.
    pub fn reported(&self) -> Vec<&LineMessage> {
        let rejected = self.has_errors();
        self.messages
            .iter()
            .filter(|m| !rejected || m.code.class() != CodeClass::Warning)
            .collect()
    }
}

/// Largest dose value of every format, in µSv (100000 mSv).
const MAX_DOSE_USV: i64 = 100_000_000;

/// The checks of one record in progress: its codes, tagged with the column they concern.
struct Line<'r> {
    record: &'r Record,
    columns: &'static [Column],
    found: Vec<(usize, LineMessage)>,
}

impl<'r> Line<'r> {
    fn new(record: &'r Record, columns: &'static [Column]) -> Self {
        Line {
            record,
            columns,
            found: Vec::new(),
        }
    }

    /// The canonical name of column `col`.
    fn name(&self, col: usize) -> &'static str {
        self.columns.get(col).map_or("", |c| c.name)
    }

    /// The trimmed value of `col`, `None` when empty.
    fn optional(&self, col: usize) -> Option<&'r str> {
        let v = self.record.get(col);
        (!v.is_empty()).then_some(v)
    }

    fn push(&mut self, col: usize, code: LineCode, detail: impl fmt::Display) {
        let msg = LineMessage::for_field(code, self.name(col), detail);
        self.found.push((col, msg));
    }

    fn push_value_error(&mut self, col: usize, code: LineCode, error: &ValueError) {
        let msg = LineMessage::from_value_error(code, self.name(col), error);
        self.found.push((col, msg));
    }

    /// The value of a mandatory column; `CHAMP_OBLIGATOIRE` when empty (and no other check
    /// of that column then runs).
    fn required(&mut self, col: usize) -> Option<&'r str> {
        let v = self.optional(col);
        if v.is_none() {
            let msg = LineMessage::mandatory(self.name(col));
            self.found.push((col, msg));
        }
        v
    }

    /// `TEXTE_TROP_LONG` beyond `max` characters (the raw value's length, §1).
    fn within(&mut self, col: usize, value: &str, max: usize) -> bool {
        if value.chars().nth(max).is_some() {
            self.push(
                col,
                LineCode::TexteTropLong,
                format_args!("{max} caractères au plus"),
            );
            return false;
        }
        true
    }

    /// A free text of at most `max` characters (the raw value's length, §1).
    fn text(&mut self, col: usize, value: &'r str, max: usize) -> Option<String> {
        if !self.within(col, value, max) {
            return None;
        }
        // Control characters (NUL above all, which PostgreSQL cannot store) are no text.
        if value.chars().any(char::is_control) {
            self.push(
                col,
                LineCode::ValeurFormat,
                "texte sans caractère de contrôle attendu",
            );
            return None;
        }
        Some(value.to_owned())
    }

    fn nir(&mut self, col: usize) -> Option<Nir> {
        let v = self.required(col)?;
        match Nir::parse(v) {
            Ok(n) => Some(n),
            Err(e) => {
                self.push_id_error(col, LineCode::NirFormat, &e);
                None
            }
        }
    }

    /// An identifier error of `col`: [`siseri_domain::IdError`]'s French text already starts
    /// with the field name (« CLE : la clé du NIR devrait être 43 »), so it is not prefixed.
    fn push_id_error(&mut self, col: usize, code: LineCode, error: &siseri_domain::IdError) {
        let msg = LineMessage {
            code,
            field: Some(self.name(col)),
            message: error.to_string(),
        };
        self.found.push((col, msg));
    }

    /// The CLE column, checked against the NIR only when the NIR parsed.
    fn nir_key(&mut self, col: usize, nir: Option<&Nir>) -> Option<u8> {
        let v = self.required(col)?;
        let nir = nir?;
        match nir.check_key(v) {
            Ok(()) => Some(nir.key()),
            Err(e) => {
                self.push_id_error(col, LineCode::NirCle, &e);
                None
            }
        }
    }

    /// NOM or PRENOM: 1–100 characters (`TEXTE_TROP_LONG` beyond), letters, spaces, hyphens,
    /// apostrophes (`format_code` otherwise). Kept as sent: normalisation is for comparing.
    fn person_name(&mut self, col: usize, format_code: LineCode) -> Option<String> {
        let v = self.required(col)?;
        if !self.within(col, v, NAME_MAX_CHARS) {
            return None;
        }
        if is_valid_name(v) {
            Some(v.to_owned())
        } else {
            self.push(
                col,
                format_code,
                "lettres, espaces, traits d'union et apostrophes attendus",
            );
            None
        }
    }

    fn date_value(&mut self, col: usize, v: &str) -> Option<NaiveDate> {
        match parse_date(v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.push_value_error(col, LineCode::DateFormat, &e);
                None
            }
        }
    }

    fn date(&mut self, col: usize) -> Option<NaiveDate> {
        let v = self.required(col)?;
        self.date_value(col, v)
    }

    fn datetime(&mut self, col: usize) -> Option<NaiveDateTime> {
        let v = self.required(col)?;
        match parse_datetime(v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.push_value_error(col, LineCode::DateFormat, &e);
                None
            }
        }
    }

    /// `DATE_FUTURE` when `date` is after `today`.
    fn not_future(&mut self, col: usize, date: Option<NaiveDate>, today: NaiveDate) {
        if date.is_some_and(|d| d > today) {
            self.push(
                col,
                LineCode::DateFuture,
                "date postérieure à la date du jour refusée",
            );
        }
    }

    fn sex(&mut self, col: usize) -> Option<Sex> {
        let v = self.required(col)?;
        let s = Sex::parse(v);
        if s.is_none() {
            self.push(col, LineCode::SexeInvalide, "F ou M attendu");
        }
        s
    }

    fn siret(&mut self, col: usize) -> Option<Siret> {
        let v = self.required(col)?;
        match Siret::parse(v) {
            Ok(s) => Some(s),
            Err(e) => {
                let code = LineCode::parse(e.code()).unwrap_or(LineCode::SiretFormat);
                self.push_id_error(col, code, &e);
                None
            }
        }
    }

    /// A value of a closed list; `CODE_INCONNU` naming the admitted values otherwise.
    fn code_value<T>(
        &mut self,
        col: usize,
        v: &str,
        parse: impl Fn(&str) -> Option<T>,
        admitted: &str,
    ) -> Option<T> {
        let c = parse(v);
        if c.is_none() {
            self.push(
                col,
                LineCode::CodeInconnu,
                format_args!("valeurs admises : {admitted}"),
            );
        }
        c
    }

    /// A mandatory value of a closed list.
    fn code<T>(
        &mut self,
        col: usize,
        parse: impl Fn(&str) -> Option<T>,
        admitted: &str,
    ) -> Option<T> {
        let v = self.required(col)?;
        self.code_value(col, v, parse, admitted)
    }

    /// An optional value of a closed list: `Some(None)` when empty, `None` when refused.
    fn optional_code<T>(
        &mut self,
        col: usize,
        parse: impl Fn(&str) -> Option<T>,
        admitted: &str,
    ) -> Option<Option<T>> {
        match self.optional(col) {
            None => Some(None),
            Some(v) => self.code_value(col, v, parse, admitted).map(Some),
        }
    }

    /// CODE_METROLOGIE: empty or `C`.
    fn correction(&mut self, col: usize) -> Option<bool> {
        self.optional_code(
            col,
            |v| v.eq_ignore_ascii_case("C").then_some(()),
            "C ou vide",
        )
        .map(|c| c.is_some())
    }

    /// A dose in mSv converted to µSv, within `min..=MAX_DOSE_USV` after rounding
    /// (`VALEUR_ARRONDIE` when digits were dropped, even if the bound then fails, since the
    /// bound was checked on the rounded value).
    fn dose(&mut self, col: usize, v: &str, min_usv: i64, bounds: &str) -> Option<i64> {
        match parse_dose_msv(v) {
            Ok(d) => {
                if d.rounded {
                    self.push(
                        col,
                        LineCode::ValeurArrondie,
                        "valeur arrondie au µSv (0,001 mSv)",
                    );
                }
                if (min_usv..=MAX_DOSE_USV).contains(&d.usv) {
                    Some(d.usv)
                } else {
                    self.push(col, LineCode::ValeurHorsBornes, bounds);
                    None
                }
            }
            Err(ValueError::OutOfRange) => {
                self.push(col, LineCode::ValeurHorsBornes, bounds);
                None
            }
            Err(e) => {
                self.push_value_error(col, LineCode::ValeurFormat, &e);
                None
            }
        }
    }

    /// A work-time fraction within 0.1…1.0, in thousandths; `QUOTITE_INVALIDE` otherwise.
    fn fraction(&mut self, col: usize) -> Option<u32> {
        let v = self.required(col)?;
        match parse_fraction_thousandths(v) {
            Ok(q) if (100..=1000).contains(&q) => Some(q),
            _ => {
                self.push(
                    col,
                    LineCode::QuotiteInvalide,
                    "nombre d'au plus 3 décimales entre 0,1 et 1,0 attendu",
                );
                None
            }
        }
    }

    /// The §5 consistency warnings between the NIR and the identity, each run only when
    /// both of its inputs parsed.
    fn identity_warnings(
        &mut self,
        nir: Option<&Nir>,
        birth: (usize, Option<NaiveDate>),
        sex: (usize, Option<Sex>),
    ) {
        let Some(nir) = nir else { return };
        if let Some(date) = birth.1
            && nir.birth_year_2digits() != format!("{:02}", date.year().rem_euclid(100))
        {
            self.push(
                birth.0,
                LineCode::NirNaissanceIncoherente,
                "l'année de naissance diffère de celle du NIR (caractères 2 et 3)",
            );
        }
        let sex_mismatch = match sex.1 {
            Some(Sex::M) => nir.is_female_digit(),
            Some(Sex::F) => nir.is_male_digit(),
            None => false,
        };
        if sex_mismatch {
            self.push(
                sex.0,
                LineCode::NirSexeIncoherent,
                "le sexe diffère de celui du NIR (1, 3, 7 : M ; 2, 4, 8 : F)",
            );
        }
    }

    fn has_errors(&self) -> bool {
        self.found
            .iter()
            .any(|(_, m)| m.code.class() == CodeClass::Error)
    }

    /// Orders the codes (column, then code list order) and keeps the value only without
    /// error.
    fn finish<T>(mut self, value: Option<T>, keys: Keys) -> Checked<T> {
        let value = if self.has_errors() { None } else { value };
        // Stable: two messages with the same column and code keep their order of finding.
        self.found.sort_by_key(|(col, m)| (*col, m.code));
        Checked {
            line: self.record.line(),
            messages: self.found.into_iter().map(|(_, m)| m).collect(),
            value,
            keys,
        }
    }
}

/// The outcome of a record the reader already rejected (`NB_COLONNES`, alone), if it was.
fn read_error<T>(record: &Record) -> Option<Checked<T>> {
    record.error().map(|e| Checked {
        line: record.line(),
        messages: vec![e.clone()],
        value: None,
        keys: Keys::default(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod test_support {
    //! Reading test lines the way real lines arrive: through the CSV reader.

    use chrono::NaiveDate;

    use crate::records::{Column, CsvRecords, Record};

    /// The records of `header` followed by `lines`, read by [`CsvRecords`].
    pub fn read(columns: &'static [Column], header: &str, lines: &[&str]) -> Vec<Record> {
        let text = format!("{header}\n{}\n", lines.join("\n"));
        CsvRecords::new(text.as_bytes(), columns)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// One CSV line holding each of `fields` whatever it contains (each quoted).
    pub fn quoted_line(fields: &[String]) -> String {
        let quoted: Vec<String> = fields
            .iter()
            .map(|v| format!("\"{}\"", v.replace('"', "\"\"")))
            .collect();
        quoted.join(";")
    }

    /// The one record of `line` under `header`.
    pub fn one(columns: &'static [Column], header: &str, line: &str) -> Record {
        read(columns, header, &[line]).pop().unwrap()
    }

    /// The reception day of the tests.
    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
    }

    /// The codes of `messages`, in order.
    pub fn codes(messages: &[crate::records::LineMessage]) -> Vec<&'static str> {
        messages.iter().map(|m| m.code.code()).collect()
    }
}
