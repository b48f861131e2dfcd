//! CSV cells the registry writes, made safe to open in a spreadsheet (CSV formula
//! injection, OWASP): a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
//! is read by spreadsheets as a formula (`=HYPERLINK(…)` sends the reader elsewhere,
//! `@SUM(…)` runs), so it is written with a leading `'`, which spreadsheets show as text.
//!
//! The execution report is meant to be corrected and sent back, so the prefix must come off
//! again: [`restore`] undoes [`neutralise`] exactly. To keep that exact for every value, a
//! value that already begins with one or more `'` followed by one of those characters gets
//! one more `'` too (`'=x` is written `''=x`); reading strips one `'` from a value that begins
//! with `'`, any further `'`, then one of those characters, and leaves every other value as
//! it is. No value of the formats legitimately begins that way (docs/decisions.md).

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula (OWASP).
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The prefix that makes a spreadsheet read the cell as text.
const TEXT_PREFIX: char = '\'';

/// Whether `value`, after any leading `'`, begins with a formula trigger.
fn triggers(value: &str) -> bool {
    value
        .trim_start_matches(TEXT_PREFIX)
        .starts_with(FORMULA_TRIGGERS)
}

/// The cell to write for `value`: `value` itself, or `'` + `value` when a spreadsheet would
/// read it as a formula (or when it would be mistaken for such a prefixed cell).
pub fn neutralise(value: &str) -> Cow<'_, str> {
    if triggers(value) {
        let mut cell = String::with_capacity(value.len() + 1);
        cell.push(TEXT_PREFIX);
        cell.push_str(value);
        Cow::Owned(cell)
    } else {
        Cow::Borrowed(value)
    }
}

/// The value of a cell read from a CSV file: [`neutralise`] undone.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix(TEXT_PREFIX) {
        Some(rest) if triggers(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_cells_are_prefixed() {
        for (value, cell) in [
            (
                "=HYPERLINK(\"http://x\";\"clic\")",
                "'=HYPERLINK(\"http://x\";\"clic\")",
            ),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("+33 1", "'+33 1"),
            ("-2+3", "'-2+3"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''@x", "'''@x"),
        ] {
            assert_eq!(neutralise(value), cell, "{value:?}");
            assert_eq!(restore(cell), value, "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_left_alone() {
        for value in [
            "",
            "DUPONT",
            "D'ARC",
            "'",
            "'x",
            "''",
            "a=b",
            " =x",
            "0,250",
            "Bâtiment réacteur",
        ] {
            assert!(matches!(neutralise(value), Cow::Borrowed(_)), "{value:?}");
            assert_eq!(restore(value), value, "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn restore_undoes_neutralise(value in any::<String>()) {
            let cell = neutralise(&value);
            prop_assert_eq!(restore(&cell), value.as_str());
        }

        #[test]
        fn restore_undoes_neutralise_near_triggers(value in "['=+@\t\r-]{0,4}[a-z']{0,3}") {
            let cell = neutralise(&value);
            prop_assert_eq!(restore(&cell), value.as_str());
            prop_assert!(!cell.starts_with(FORMULA_TRIGGERS));
        }
    }
}
