//! Triage at intake: a catalogue of call motives with their default urgency and the skills they
//! need, and red flags that call for the 15 (SAMU) before any home visit. Matching is on words,
//! case- and accent-insensitive, as a dispatcher types them.

use serde::Serialize;

use super::Skill;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Motive {
    pub code: &'static str,
    pub label: &'static str,
    /// 1 (most urgent) to 3.
    pub urgency: i64,
    pub skills: Vec<Skill>,
    #[serde(skip)]
    keywords: &'static [&'static str],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RedFlag {
    pub code: &'static str,
    pub label: &'static str,
    /// What the dispatcher should do.
    pub advice: &'static str,
    /// Every group must match, by any of its words.
    #[serde(skip)]
    all_of: &'static [&'static [&'static str]],
}

const fn motive(
    code: &'static str,
    label: &'static str,
    urgency: i64,
    keywords: &'static [&'static str],
) -> (&'static str, &'static str, i64, &'static [&'static str]) {
    (code, label, urgency, keywords)
}

const MOTIVES: &[(&str, &str, i64, &[&str])] = &[
    motive(
        "chest_pain",
        "Douleur thoracique",
        1,
        &["thorac", "poitrine"],
    ),
    motive(
        "palpitations",
        "Palpitations, malaise",
        1,
        &["palpitation", "malaise", "tachycard"],
    ),
    motive(
        "dyspnea",
        "Gêne respiratoire",
        1,
        &["dyspnee", "essouffl", "respir", "desatur"],
    ),
    motive(
        "fever_child",
        "Fièvre de l'enfant",
        2,
        &["enfant", "bebe", "nourrisson"],
    ),
    motive("fever", "Fièvre", 2, &["fievre", "febrile", "frisson"]),
    motive(
        "abdominal_pain",
        "Douleur abdominale",
        2,
        &["abdomin", "ventre", "colique"],
    ),
    motive(
        "fall_elderly",
        "Chute de la personne âgée",
        2,
        &["chute", "tombe"],
    ),
    motive(
        "confusion",
        "Confusion",
        2,
        &["confus", "desorient", "agit"],
    ),
    motive("asthma", "Crise d'asthme", 2, &["asthme"]),
    motive("urinary_catheter", "Sonde urinaire", 2, &["sonde"]),
    motive(
        "urinary",
        "Infection urinaire",
        3,
        &["urinaire", "brulure", "cystite"],
    ),
    motive("back_pain", "Lombalgie", 3, &["lombalg", "lumbago", "dos"]),
    motive(
        "gastro",
        "Gastro-entérite",
        3,
        &["gastro", "vomissement", "diarrhee"],
    ),
    motive("ear", "Otalgie", 3, &["otalgie", "oreille", "otite"]),
    motive("wound", "Plaie", 3, &["plaie", "coupure"]),
    motive(
        "death_certificate",
        "Certificat de décès",
        3,
        &["deces", "decede"],
    ),
];

const RED_FLAGS: &[RedFlag] = &[
    RedFlag {
        code: "acute_coronary",
        label: "Douleur thoracique avec signes de gravité",
        advice: "Suspicion de syndrome coronarien : transférer au 15 sans attendre.",
        all_of: &[&["thorac", "poitrine"], &["sueur", "transpir", "irradi", "bras gauche", "machoire", "oppress", "serrement"]],
    },
    RedFlag {
        code: "stroke",
        label: "Signes d'AVC",
        advice: "Déficit brutal (visage, bras, parole) : transférer au 15, noter l'heure de début.",
        all_of: &[&["avc", "paralys", "hemipleg", "bouche de travers", "visage asymetrique", "trouble de la parole", "aphasie", "n'arrive plus a parler", "bras ne repond", "engourdissement brutal"]],
    },
    RedFlag {
        code: "respiratory_distress",
        label: "Détresse respiratoire",
        advice: "Détresse respiratoire : transférer au 15.",
        all_of: &[&["detresse respiratoire", "n'arrive plus a respirer", "etouffe", "cyanose", "levres bleues", "suffoque"]],
    },
    RedFlag {
        code: "unconscious",
        label: "Trouble de la conscience",
        advice: "Patient inconscient ou qui ne répond plus : transférer au 15.",
        all_of: &[&["inconscient", "ne repond plus", "perte de connaissance", "coma", "ne se reveille pas"]],
    },
    RedFlag {
        code: "haemorrhage",
        label: "Hémorragie",
        advice: "Saignement abondant : transférer au 15.",
        all_of: &[&["hemorragie", "saigne abondamment", "vomit du sang", "hematemese", "sang dans les selles"]],
    },
    RedFlag {
        code: "anaphylaxis",
        label: "Réaction allergique grave",
        advice: "Gonflement du visage ou de la gorge, gêne à respirer : transférer au 15.",
        all_of: &[&["gonfl", "oedeme", "anaphyla"], &["visage", "gorge", "langue", "levres", "anaphyla"]],
    },
    RedFlag {
        code: "purpura_fever",
        label: "Fièvre avec purpura",
        advice: "Taches violacées qui ne s'effacent pas avec fièvre : purpura fulminans possible, transférer au 15.",
        all_of: &[&["purpura", "taches violac", "taches rouges qui ne s'effacent"], &["fievre", "febrile", "purpura"]],
    },
    RedFlag {
        code: "suicide",
        label: "Risque suicidaire",
        advice: "Idées ou geste suicidaire, intoxication volontaire : transférer au 15.",
        all_of: &[&["suicid", "intoxication volontaire", "overdose"]],
    },
];

/// Lower case without accents: "Étouffe" → "etouffe".
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' => out.push('i'),
            'ô' | 'ö' | 'ó' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ç' => out.push('c'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '’' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

fn skills_for(code: &str) -> Vec<Skill> {
    match code {
        "chest_pain" | "palpitations" => vec![Skill::Ecg],
        "fever_child" => vec![Skill::Pediatric],
        _ => vec![],
    }
}

/// The motive catalogue, most urgent first.
pub fn catalogue() -> Vec<Motive> {
    MOTIVES
        .iter()
        .map(|&(code, label, urgency, keywords)| Motive {
            code,
            label,
            urgency,
            skills: skills_for(code),
            keywords,
        })
        .collect()
}

pub fn red_flags_catalogue() -> &'static [RedFlag] {
    RED_FLAGS
}

/// The catalogue motive that a free-text motive matches first, if any.
pub fn classify(motive: &str) -> Option<Motive> {
    let text = normalise(motive);
    catalogue()
        .into_iter()
        .find(|m| m.keywords.iter().any(|k| text.contains(k)))
}

/// The red flags a free-text motive (and notes) raise.
pub fn red_flags(text: &str) -> Vec<&'static RedFlag> {
    let text = normalise(text);
    RED_FLAGS
        .iter()
        .filter(|f| {
            f.all_of
                .iter()
                .all(|group| group.iter().any(|w| text.contains(w)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chest_pain_with_sweating_calls_for_the_15() {
        let flags = red_flags("Douleur thoracique avec SUEURS depuis 20 min");
        assert_eq!(
            flags.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec!["acute_coronary"]
        );
        assert!(red_flags("Douleur thoracique atypique, pas de gêne").is_empty());
        assert_eq!(
            red_flags("Bouche de travers et trouble de la parole")[0].code,
            "stroke"
        );
        assert_eq!(
            red_flags("L'enfant a de la fièvre et un purpura")[0].code,
            "purpura_fever"
        );
        assert!(red_flags("fièvre 39,5 depuis 2 jours").is_empty());
    }

    #[test]
    fn motives_are_classified_with_urgency_and_skills() {
        let m = classify("Douleur thoracique atypique").unwrap();
        assert_eq!((m.code, m.urgency), ("chest_pain", 1));
        assert_eq!(m.skills, vec![Skill::Ecg]);
        assert_eq!(
            classify("Fièvre chez un enfant de 5 ans").unwrap().code,
            "fever_child"
        );
        assert_eq!(classify("Lombalgie aiguë").unwrap().urgency, 3);
        assert!(classify("renouvellement d'ordonnance").is_none());
        assert_eq!(normalise("Étouffe, Œdème"), "etouffe, oedeme");
    }
}
