//! French explanations of every code of the execution report (exchange.md §6), and the
//! labels of the line statuses and formats. The exchange crate keeps only the codes
//! themselves; senders read the reports here, so the explanations live with the pages.

use siseri_domain::codes::TransmissionFormat;

/// What a code means for the sender, in French; `None` for an unknown spelling.
pub fn explanation(code: &str) -> Option<&'static str> {
    let text = match code {
        "NB_COLONNES" => {
            "La ligne n’a pas autant de champs que l’en-tête : un séparateur « ; » manque ou est en trop."
        }
        "CHAMP_OBLIGATOIRE" => "Un champ obligatoire est vide.",
        "TEXTE_TROP_LONG" => "Le texte dépasse la longueur admise pour cette colonne.",
        "NIR_FORMAT" => {
            "Le NIR doit compter 13 caractères (chiffres, ou 2A / 2B pour la Corse), sans la clé."
        }
        "NIR_CLE" => "La clé du NIR (2 chiffres) ne correspond pas au NIR : vérifiez les deux.",
        "NOM_FORMAT" => {
            "Le nom ne peut contenir que des lettres, espaces, traits d’union et apostrophes (100 au plus)."
        }
        "PRENOM_FORMAT" => {
            "Le prénom ne peut contenir que des lettres, espaces, traits d’union et apostrophes (100 au plus)."
        }
        "DATE_FORMAT" => {
            "La date doit être écrite JJ/MM/AAAA (ou JJ/MM/AAAA HH:MM) et exister au calendrier."
        }
        "SEXE_INVALIDE" => "Le sexe doit être F ou M.",
        "SIRET_FORMAT" => "Le SIRET doit compter 14 chiffres.",
        "SIRET_CLE" => {
            "La clé de contrôle du SIRET est fausse : le numéro a sans doute été mal recopié."
        }
        "SIRET_HORS_ENTREPRISE" => {
            "Cet établissement n’est pas dans le périmètre de votre compte (votre entreprise, vos établissements ou vos désignations)."
        }
        "ETABLISSEMENT_INCONNU" => {
            "Ce SIRET n’est pas connu du registre : l’établissement doit d’abord y être déclaré."
        }
        "CODE_INCONNU" => {
            "La valeur ne fait pas partie de la liste admise pour cette colonne (codes de la nomenclature compris)."
        }
        "NOMENCLATURE_INCOHERENTE" => {
            "Les codes domaine, secteur et métier existent mais ne forment pas une ligne de la nomenclature."
        }
        "CLASSEMENT_MANQUANT" => {
            "Le classement (A ou B) est obligatoire, sauf si une autre exposition est indiquée."
        }
        "QUOTITE_INVALIDE" => "La quotité doit être un nombre décimal de 0,1 à 1.",
        "PERIODE_INVERSEE" => "La date de fin précède la date de début.",
        "PERIODE_TROP_LONGUE" => {
            "La période dépasse la durée admise (3 mois ; 1 mois pour le cosmique ; 31 jours de port en dosimétrie opérationnelle)."
        }
        "DATE_FUTURE" => "La date est postérieure au jour de réception du fichier.",
        "VALEUR_FORMAT" => {
            "La valeur doit être un nombre : chiffres avec virgule ou point décimal, sans signe ni séparateur de milliers."
        }
        "VALEUR_HORS_BORNES" => {
            "La valeur sort des bornes admises (de 0 à 100 000 mSv pour une dose)."
        }
        "VALEUR_MANQUANTE" => {
            "Une valeur est obligatoire ici (par exemple la dose d’un résultat MESURE)."
        }
        "VALEUR_INATTENDUE" => {
            "Une valeur est donnée alors que ce champ doit rester vide (par exemple la dose d’un résultat ABSENCE)."
        }
        "REFERENCE_FORMAT" => {
            "La référence doit compter de 1 à 64 caractères parmi lettres, chiffres, « . », « _ », « / » et « - »."
        }
        "REFERENCE_CONFLIT" => {
            "Cette référence est déjà enregistrée avec d’autres valeurs : pour la corriger, indiquez C dans CODE_METROLOGIE."
        }
        "CORRECTION_SANS_ORIGINE" => {
            "Correction (C) d’une référence que le registre ne connaît pas pour votre organisme."
        }
        "NATURE_GRANDEUR_INCOHERENTE" => {
            "Cette grandeur n’est pas admise pour cette nature de surveillance."
        }
        "NATURE_NON_ACCREDITEE" => {
            "Votre organisme n’est pas accrédité pour cette nature de surveillance."
        }
        "POSITION_INVALIDE" => {
            "La position du dosimètre manque ou n’est pas admise pour cette grandeur."
        }
        "REJET_GESTIONNAIRE" => "Un gestionnaire du registre a rejeté cette ligne mise en attente.",
        "IDENTITE_INCOHERENTE" => {
            "Le nom, le prénom ou la date de naissance diffère de l’identité que le registre connaît pour ce NIR : la ligne est conservée et attend la décision d’un gestionnaire."
        }
        "TRAVAILLEUR_INCONNU" => {
            "Ce NIR n’est pas encore connu du registre : la lecture est conservée et sera rattachée dès que le travailleur sera déclaré."
        }
        "NIR_SEXE_INCOHERENT" => {
            "Avertissement : le premier chiffre du NIR ne correspond pas au sexe déclaré."
        }
        "NIR_NAISSANCE_INCOHERENTE" => {
            "Avertissement : l’année de naissance contenue dans le NIR ne correspond pas à la date de naissance."
        }
        "VALEUR_ARRONDIE" => "Avertissement : la dose a été arrondie au µSv (0,001 mSv).",
        "RATTACHEMENT_ABSENT" => {
            "Avertissement : le travailleur n’est pas rattaché à cet établissement à cette date ; la donnée est tout de même conservée."
        }
        "CLASSEMENT_A_REVOIR" => {
            "Avertissement : les doses de ce travailleur classé B dépassent les niveaux de la catégorie B ; son classement est à revoir."
        }
        "ENCODAGE_INVALIDE" => {
            "Le fichier n’est ni en UTF-8 ni en Windows-1252, ou mélange les deux : enregistrez-le au format « CSV UTF-8 » puis renvoyez-le."
        }
        "ENTETE_INVALIDE" => {
            "La première ligne (l’en-tête) est incorrecte : une colonne obligatoire manque, est vide ou figure deux fois."
        }
        "JSON_INVALIDE" => {
            "Le contenu n’est pas un tableau JSON d’objets dont les valeurs sont des textes."
        }
        "FICHIER_TROP_GRAND" => {
            "Le fichier dépasse 2 Gio ou 5 000 000 de lignes : découpez-le en plusieurs envois."
        }
        "FICHIER_VIDE" => "Le fichier ne contient aucune ligne de données.",
        "COLONNE_IGNOREE" => "Avertissement : une colonne inconnue du format a été ignorée.",
        "ENCODAGE_WINDOWS_1252" => {
            "Avertissement : le fichier n’est pas en UTF-8 ; il a été lu en Windows-1252 (l’encodage des fichiers CSV d’Excel sous Windows). Vérifiez que les accents du rapport sont justes."
        }
        _ => return None,
    };
    Some(text)
}

/// The French label of a line status.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "REJETE" => "Rejetée",
        "EN_ATTENTE" => "En attente",
        "DOUBLON" => "Doublon",
        "ACCEPTE" => "Acceptée",
        _ => "Inconnu",
    }
}

/// The DSFR badge variant of a line status (the text says the same: colour is never the
/// only signal).
pub fn status_badge(status: &str) -> &'static str {
    match status {
        "REJETE" => "fr-badge--error",
        "EN_ATTENTE" => "fr-badge--warning",
        "DOUBLON" => "fr-badge--info",
        _ => "fr-badge--success",
    }
}

/// Where a status comes in the report page: rejected lines first, then held ones, then
/// accepted lines with warnings, then duplicates.
pub fn status_rank(status: &str) -> u8 {
    match status {
        "REJETE" => 0,
        "EN_ATTENTE" => 1,
        "ACCEPTE" => 2,
        "DOUBLON" => 3,
        _ => 4,
    }
}

/// The French label of a format.
pub fn format_label(format: TransmissionFormat) -> &'static str {
    match format {
        TransmissionFormat::Workers => "Travailleurs (modèle d’import SISERI 2)",
        TransmissionFormat::Results => "Résultats de dosimétrie (organisme accrédité)",
        TransmissionFormat::OperationalDosimetry => "Dosimétrie opérationnelle (INB)",
    }
}

/// The label of a format given by its code (as reports keep it).
pub fn format_label_of(code: &str) -> String {
    TransmissionFormat::parse(code).map_or_else(|| code.to_string(), |f| format_label(f).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use siseri_exchange::records::{FileCode, LineCode};

    #[test]
    fn every_code_of_the_exchange_has_an_explanation() {
        for c in LineCode::ALL {
            assert!(explanation(c.code()).is_some(), "{}", c.code());
        }
        for c in FileCode::ALL {
            assert!(explanation(c.code()).is_some(), "{}", c.code());
        }
        assert_eq!(explanation("INCONNU"), None);
    }
}
