//! The closed lists of the exchange formats (`exchange.md`): each a Rust enum whose
//! canonical spelling is the code users see, parsed case-insensitively.

/// Defines a closed list: an enum, its canonical codes, and a case-insensitive parser.
macro_rules! closed_list {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every value, in the order of the specification.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical code, as stored and shown.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses a code, ignoring case and surrounding spaces.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code().eq_ignore_ascii_case(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| UnknownCode {
                    list: stringify!($name),
                    expected: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    };
}

/// A value outside a closed list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("valeur inconnue pour {list} : valeurs admises {expected}")]
pub struct UnknownCode {
    /// The list's name in code.
    pub list: &'static str,
    /// The admitted values, comma-separated.
    pub expected: String,
}

closed_list! {
    /// SEXE.
    Sex { F => "F", M => "M" }
}

closed_list! {
    /// CLASSEMENT: the worker's category (R4451‑57).
    Classification { A => "A", B => "B" }
}

closed_list! {
    /// AUTREEXPOSITION: an exposure that makes a non-classified worker "exposed".
    OtherExposure {
        Radon => "RADON",
        Cosmic => "RAY_COS",
        EmergencyGroup1 => "SUR_GRP_1",
        EmergencyGroup2 => "SUR_GRP_2",
    }
}

impl OtherExposure {
    /// Emergency responders carry the 1 Sv lifetime limit (R4451‑9).
    pub fn is_emergency_group(self) -> bool {
        matches!(
            self,
            OtherExposure::EmergencyGroup1 | OtherExposure::EmergencyGroup2
        )
    }
}

closed_list! {
    /// caractereActivite.
    ActivityCharacter { Civil => "Civil", Military => "Militaire" }
}

closed_list! {
    /// codeNuisanceRadiologique: the kind of exposure.
    Nuisance { External => "EXT", Internal => "INT", Both => "EXTINT" }
}

closed_list! {
    /// codeTypeContrat.
    ContractType {
        Permanent => "CDI",
        FixedTerm => "CDD",
        TempAgency => "CTT",
        Intern => "STG",
        Apprentice => "CAP",
        CivilServant => "TFP",
        SelfEmployed => "TVI",
    }
}

closed_list! {
    /// NATURE of a result: the kind of monitoring (physicians add `ESTIMATION_MDT`).
    Nature {
        External => "EXTERNE",
        InternalInVivo => "INTERNE_VIVO",
        InternalInVitro => "INTERNE_VITRO",
        Radon => "RADON",
        Cosmic => "COSMIQUE",
        PhysicianEstimate => "ESTIMATION_MDT",
    }
}

closed_list! {
    /// GRANDEUR: the quantity a result measures.
    Quantity {
        Hp10 => "HP10",
        Hp10Neutron => "HP10_NEUTRON",
        Hp007 => "HP007",
        Hp3 => "HP3",
        Hp007Extremity => "HP007_EXTREMITE",
        E50 => "E50",
        E => "E",
    }
}

closed_list! {
    /// POSITION: where a dosimeter was worn.
    Position {
        LeftEye => "OEIL_GAUCHE",
        RightEye => "OEIL_DROIT",
        LeftHand => "MAIN_GAUCHE",
        RightHand => "MAIN_DROITE",
        LeftWrist => "POIGNET_GAUCHE",
        RightWrist => "POIGNET_DROIT",
        LeftFoot => "PIED_GAUCHE",
        RightFoot => "PIED_DROIT",
    }
}

closed_list! {
    /// STATUT of a result version (`ANNULE` only through a correction).
    ResultStatus {
        Measured => "MESURE",
        BelowThreshold => "INF_SEUIL",
        Absent => "ABSENCE",
        Cancelled => "ANNULE",
    }
}

closed_list! {
    /// TYPE_MESURE of an operational reading.
    OperationalQuantity {
        Hp10Photon => "OPE-HP10-PHO",
        Hp10FastNeutron => "OPE-HP10-NEURAP",
        Hp007 => "OPE-HP007",
    }
}

closed_list! {
    /// TYPE_DOSIMETRE of an operational reading.
    DosimeterType {
        Dosicard => "DOSICARD",
        Epd => "EPD",
        EpdMk3 => "EPD MK3",
        EpdN2 => "EPD N2",
        SaphydoseGammaI => "Saphydose Gamma I",
        Dmc2000Gn => "DMC 2000 GN",
        Dmc3000 => "DMC 3000",
        Dmc => "DMC",
        Dmc2000 => "DMC 2000",
        Dmc2000S => "DMC 2000 S",
        Dmc2000X => "DMC 2000 X",
        Dmc2000Xb => "DMC 2000 XB",
        Dmx100 => "DMX 100",
        Dmx90 => "DMX 90",
    }
}

closed_list! {
    /// The three exchange formats.
    TransmissionFormat {
        Workers => "travailleurs",
        Results => "resultats",
        OperationalDosimetry => "dosimetrie-operationnelle",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_case_insensitively_to_canonical_spelling() {
        assert_eq!(Nature::parse(" externe "), Some(Nature::External));
        assert_eq!(
            ActivityCharacter::parse("MILITAIRE"),
            Some(ActivityCharacter::Military)
        );
        assert_eq!(
            DosimeterType::parse("saphydose gamma i").unwrap().code(),
            "Saphydose Gamma I"
        );
        assert_eq!(
            OperationalQuantity::parse("ope-hp10-pho"),
            Some(OperationalQuantity::Hp10Photon)
        );
        assert_eq!(Position::parse("OEIL"), None);
        assert_eq!(Sex::parse(""), None);
    }

    #[test]
    fn every_code_round_trips_and_is_unique() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            code: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for v in all {
                assert_eq!(parse(code(*v)), Some(*v));
                assert_eq!(parse(&code(*v).to_lowercase()), Some(*v));
            }
            let mut codes: Vec<_> = all.iter().map(|v| code(*v)).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), all.len());
        }
        check(Sex::ALL, Sex::code, Sex::parse);
        check(
            Classification::ALL,
            Classification::code,
            Classification::parse,
        );
        check(
            OtherExposure::ALL,
            OtherExposure::code,
            OtherExposure::parse,
        );
        check(
            ActivityCharacter::ALL,
            ActivityCharacter::code,
            ActivityCharacter::parse,
        );
        check(Nuisance::ALL, Nuisance::code, Nuisance::parse);
        check(ContractType::ALL, ContractType::code, ContractType::parse);
        check(Nature::ALL, Nature::code, Nature::parse);
        check(Quantity::ALL, Quantity::code, Quantity::parse);
        check(Position::ALL, Position::code, Position::parse);
        check(ResultStatus::ALL, ResultStatus::code, ResultStatus::parse);
        check(
            OperationalQuantity::ALL,
            OperationalQuantity::code,
            OperationalQuantity::parse,
        );
        check(
            DosimeterType::ALL,
            DosimeterType::code,
            DosimeterType::parse,
        );
        check(
            TransmissionFormat::ALL,
            TransmissionFormat::code,
            TransmissionFormat::parse,
        );
        assert_eq!(DosimeterType::ALL.len(), 14);
        assert_eq!(ContractType::ALL.len(), 7);
    }

    #[test]
    fn unknown_code_lists_the_admitted_values() {
        let e = "X".parse::<Sex>().unwrap_err();
        assert!(e.to_string().contains("F, M"));
    }
}
