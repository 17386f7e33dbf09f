//! Address search over a whole département: `cargo bench --bench address`.
//!
//! No BAN file is at hand, so a département-sized one is generated, deterministically, in the BAN
//! format: 600,000 addresses on 20,000 streets in 500 communes (sizes falling off like real ones,
//! one large city), street names built from French street types and names (people, saints,
//! places, trees, dates), house numbers 1..N with some `bis`/`ter`. The file is read with the real
//! reader and indexed; then 5,000 queries are timed, a quarter of each kind: exact, one typo,
//! without accents (lowercase), and typed halfway (abbreviated street type, the commune's last
//! word cut in the middle).
//! Reports build time, memory, p50/p99/max latency, and the hit rate (the address in the top 5).
//! With `CHEVET_BENCH_BAN_FILE=PATH`, the generated file is also written there.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chevet::address::{fold, Address, AddressIndex, BanReader, IndexBuilder};

const ADDRESSES: usize = 600_000;
const STREETS: usize = 20_000;
const COMMUNES: usize = 500;
const QUERIES: usize = 5_000;

/// splitmix64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TYPES: &[(&str, usize)] = &[
    ("Rue", 40),
    ("Chemin", 12),
    ("Avenue", 8),
    ("Impasse", 8),
    ("Allée", 6),
    ("Route", 6),
    ("Place", 4),
    ("Boulevard", 3),
    ("Montée", 2),
    ("Lotissement", 2),
    ("Hameau", 2),
    ("Résidence", 2),
    ("Quai", 1),
    ("Square", 1),
    ("Cours", 1),
    ("Passage", 1),
    ("Sentier", 1),
    ("Traverse", 1),
];
const FIRST: &[&str] = &[
    "Jean",
    "Victor",
    "Louis",
    "Jules",
    "Pierre",
    "Paul",
    "Émile",
    "Marcel",
    "Henri",
    "Georges",
    "André",
    "Joseph",
    "François",
    "Charles",
    "Albert",
    "Édouard",
    "Marie",
    "Louise",
    "Jeanne",
    "Hélène",
    "Simone",
    "Lucie",
    "Marguerite",
    "Geneviève",
    "Aristide",
    "Anatole",
    "Honoré",
    "Gustave",
    "Félix",
    "Léon",
    "Eugène",
    "Auguste",
    "Antoine",
    "Claude",
    "Étienne",
    "Raymond",
    "Germaine",
    "Berthe",
    "Irène",
    "Colette",
];
const LAST: &[&str] = &[
    "Jaurès",
    "Hugo",
    "Pasteur",
    "Ferry",
    "Moulin",
    "Curie",
    "Zola",
    "Gambetta",
    "Berlioz",
    "Stendhal",
    "Vallier",
    "Viallet",
    "Poulat",
    "Champollion",
    "Mistral",
    "Daudet",
    "Pagnol",
    "Rostand",
    "Briand",
    "Clemenceau",
    "Doumergue",
    "Lyautey",
    "Foch",
    "Joffre",
    "Leclerc",
    "Mermoz",
    "Blériot",
    "Ader",
    "Lumière",
    "Monnet",
    "Schuman",
    "Vercors",
    "Bergès",
    "Fourier",
    "Ampère",
    "Arago",
    "Condorcet",
    "Diderot",
    "Voltaire",
    "Rousseau",
    "Molière",
    "Racine",
    "Corneille",
    "Lamartine",
    "Musset",
    "Vigny",
    "Baudelaire",
    "Rimbaud",
    "Verlaine",
    "Apollinaire",
    "Péguy",
    "Camus",
    "Sartre",
    "Prévert",
    "Brassens",
    "Piaf",
    "Debussy",
    "Ravel",
    "Bizet",
    "Gounod",
    "Massenet",
    "Fauré",
    "Satie",
    "Renoir",
    "Monet",
    "Cézanne",
    "Matisse",
    "Braque",
    "Chagall",
    "Rodin",
    "Eiffel",
    "Vauban",
    "Colbert",
    "Sully",
    "Turgot",
    "Necker",
    "Carnot",
    "Kléber",
    "Marceau",
    "Hoche",
    "Desaix",
    "Daumesnil",
    "Lesdiguières",
    "Bayard",
    "Dolomieu",
    "Mounier",
    "Barnave",
    "Chenavas",
    "Genevois",
    "Bouvier",
    "Gachet",
    "Perrin",
    "Allier",
];
const SAINTS: &[&str] = &[
    "Jean",
    "Pierre",
    "Paul",
    "Martin",
    "Laurent",
    "Joseph",
    "Jacques",
    "Michel",
    "Roch",
    "Bruno",
    "Hugues",
    "Antoine",
    "Vincent",
    "Nicolas",
    "Georges",
    "Ferjus",
    "Égrève",
    "Ismier",
    "Nazaire",
    "Marcellin",
    "Geoirs",
    "Quentin",
    "Clair",
    "Hilaire",
    "Romain",
    "Sauveur",
];
const THINGS: &[&str] = &[
    "de la Gare",
    "de l'Église",
    "du Stade",
    "des Écoles",
    "du Moulin",
    "du Château",
    "de la Mairie",
    "du Lavoir",
    "du Pont",
    "de la Fontaine",
    "du Cimetière",
    "de la Poste",
    "du Marché",
    "des Alpes",
    "de Belledonne",
    "du Vercors",
    "de la Chartreuse",
    "du Taillefer",
    "de l'Oisans",
    "des Lilas",
    "des Tilleuls",
    "des Acacias",
    "des Peupliers",
    "des Platanes",
    "des Marronniers",
    "des Cerisiers",
    "des Noyers",
    "des Châtaigniers",
    "des Bouleaux",
    "des Érables",
    "des Roses",
    "des Jonquilles",
    "des Violettes",
    "des Coquelicots",
    "de la Forêt",
    "du Bois",
    "des Prés",
    "des Vignes",
    "des Vergers",
    "du Ruisseau",
    "de la Rivière",
    "du Lac",
    "de l'Isère",
    "du Drac",
    "de la Romanche",
    "du Rhône",
    "des Sources",
    "du Puits",
    "de la Croix",
    "de la Chapelle",
    "du Prieuré",
    "de l'Abbaye",
    "du Four",
    "de la Forge",
    "des Tanneurs",
    "des Tisserands",
    "des Artisans",
    "de l'Industrie",
    "du Commerce",
    "de la Liberté",
    "de la République",
    "de la Libération",
    "de la Résistance",
    "de la Paix",
    "du 8 Mai 1945",
    "du 11 Novembre",
    "du 19 Mars 1962",
    "du 14 Juillet",
    "des Martyrs",
    "des Déportés",
    "des Combattants",
    "du Souvenir",
    "du Général de Gaulle",
    "du Maréchal Leclerc",
    "du Docteur Schweitzer",
    "de Verdun",
    "de Stalingrad",
    "d'Alsace-Lorraine",
    "de Savoie",
    "du Dauphiné",
    "de Provence",
    "de Bourgogne",
    "du Champ de Mars",
    "du Plateau",
    "des Crêts",
    "de la Combe",
    "du Coteau",
    "des Balmes",
    "de la Côte",
    "du Replat",
    "des Granges",
    "des Mollières",
    "de la Tuilerie",
    "de la Verrerie",
    "de la Papeterie",
    "des Cèdres",
];
const TOWNS: &[&str] = &[
    "Grenoble",
    "Échirolles",
    "Meylan",
    "Voiron",
    "Vienne",
    "Bourgoin",
    "Crolles",
    "Vizille",
    "Vif",
    "Sassenage",
    "Fontaine",
    "Seyssins",
    "Claix",
    "Varces",
    "Eybens",
    "Domène",
    "Moirans",
    "Rives",
    "Tullins",
    "Vinay",
    "Pontcharra",
    "Allevard",
    "Goncelin",
    "Villard",
    "Corps",
    "Mens",
    "Clelles",
    "Monestier",
    "Lans",
    "Autrans",
    "Méaudre",
    "Beaurepaire",
    "Roussillon",
    "Salaise",
    "Heyrieux",
    "Crémieu",
    "Morestel",
    "Vaulnaveys",
    "Brié",
    "Bresson",
    "Jarrie",
    "Champagnier",
    "Poisat",
    "Gières",
    "Murianette",
    "Venon",
    "Herbeys",
    "Revel",
    "Biviers",
    "Montbonnot",
    "Bernin",
    "Lumbin",
    "Froges",
    "Tencin",
    "Theys",
    "Laval",
    "Sarcenas",
    "Quaix",
    "Proveysieux",
    "Mont-Saint-Martin",
    "Noyarey",
    "Veurey",
    "Voreppe",
    "Coublevie",
    "Chirens",
    "Charavines",
    "Apprieu",
    "Renage",
    "Beaucroissant",
    "Izeaux",
    "Sillans",
    "Brézins",
    "Bévenais",
    "Colombe",
    "Oyeu",
    "Burcin",
    "Longechenal",
    "Faramans",
    "Pajay",
    "Penol",
    "Marcilloles",
    "Lentiol",
    "Thodure",
    "Viriville",
    "Roybon",
    "Chambaran",
    "Montfalcon",
    "Bressieux",
    "Brion",
    "Chasselay",
];
const SUFFIXES: &[&str] = &[
    "",
    "-sur-Isère",
    "-en-Belledonne",
    "-le-Château",
    "-les-Bains",
    "-de-Vercors",
    "-d'Uriage",
    "-le-Haut",
    "-le-Bas",
    "-du-Mont",
    "-en-Trièves",
    "-sur-Rhône",
    "-la-Forêt",
    "-les-Eaux",
];

struct Commune {
    name: String,
    citycode: String,
    postcode: String,
    lat: f64,
    lon: f64,
}

fn communes(rng: &mut Rng) -> Vec<Commune> {
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    while names.len() < COMMUNES {
        let name = if rng.below(5) == 0 {
            format!("Saint-{}{}", rng.pick(SAINTS), rng.pick(SUFFIXES))
        } else if names.len() < TOWNS.len() {
            TOWNS[names.len()].to_owned()
        } else {
            format!("{}{}", rng.pick(TOWNS), rng.pick(SUFFIXES))
        };
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Commune {
            name,
            citycode: format!("38{:03}", i + 1),
            postcode: if i == 0 {
                "38000".into()
            } else {
                format!("38{:03}", 100 + (i / 5) * 10 % 900)
            },
            lat: 44.75 + rng.unit() * 1.1,
            lon: 4.8 + rng.unit() * 1.4,
        })
        .collect()
}

fn street_name(rng: &mut Rng) -> String {
    let total: usize = TYPES.iter().map(|t| t.1).sum();
    let mut k = rng.below(total);
    let kind = TYPES
        .iter()
        .find(|t| {
            if k < t.1 {
                true
            } else {
                k -= t.1;
                false
            }
        })
        .unwrap()
        .0;
    let name = match rng.below(10) {
        0..=3 => format!("{} {}", rng.pick(FIRST), rng.pick(LAST)),
        4 => format!("Saint-{}", rng.pick(SAINTS)),
        5 => rng.pick(LAST).to_owned(),
        _ => rng.pick(THINGS).to_owned(),
    };
    format!("{kind} {name}")
}

/// The synthetic département, as a BAN `adresses-38.csv` text, and its addresses.
fn generate() -> (String, Vec<Address>) {
    let mut rng = Rng(38);
    let communes = communes(&mut rng);
    // Streets per commune falling off like real sizes (Zipf), at least 3 each.
    let weights: Vec<f64> = (0..COMMUNES)
        .map(|i| 1.0 / (i as f64 + 1.0).powf(0.9))
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| ((w / sum) * (STREETS - 3 * COMMUNES) as f64) as usize + 3)
        .collect();
    let short = STREETS - counts.iter().sum::<usize>();
    counts[0] += short;
    let mut text = String::from(
        "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles\n",
    );
    let mut all = Vec::with_capacity(ADDRESSES);
    // About 7 % of numbers also have a `bis` or `ter`.
    let per_street = ADDRESSES * 100 / 107 / STREETS;
    for (c, commune) in communes.iter().enumerate() {
        let mut names = HashSet::new();
        while names.len() < counts[c] {
            names.insert(street_name(&mut rng));
        }
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        for (s, street) in names.iter().enumerate() {
            let n = 1 + rng.below(2 * per_street - 1);
            let (slat, slon) = (
                commune.lat + (rng.unit() - 0.5) * 0.04,
                commune.lon + (rng.unit() - 0.5) * 0.05,
            );
            let (dlat, dlon) = ((rng.unit() - 0.5) * 1e-4, (rng.unit() - 0.5) * 1e-4);
            for k in 1..=n {
                let reps: &[&str] = match rng.below(100) {
                    0..=4 => &["", "bis"],
                    5 => &["", "bis", "ter"],
                    _ => &[""],
                };
                for rep in reps {
                    let a = Address {
                        ban_id: Some(format!("{}_{s:04x}_{k:05}{rep}", commune.citycode)),
                        housenumber: k as u32,
                        rep: rep.to_string(),
                        street: street.clone(),
                        postcode: commune.postcode.clone(),
                        citycode: commune.citycode.clone(),
                        city: commune.name.clone(),
                        old_city: None,
                        lat: ((slat + dlat * k as f64) * 1e6).round() / 1e6,
                        lon: ((slon + dlon * k as f64) * 1e6).round() / 1e6,
                    };
                    text.push_str(&format!(
                        "{};{}_{s:04x};{k};{rep};{};{};{};{};;;{:.2};{:.2};{};{};entrée;;;{};{};commune;commune;1;{}000AB{:04}\n",
                        a.ban_id.as_deref().unwrap(),
                        a.citycode,
                        a.street,
                        a.postcode,
                        a.citycode,
                        a.city,
                        900_000.0 + a.lon * 1000.0,
                        6_400_000.0 + a.lat * 1000.0,
                        a.lon,
                        a.lat,
                        a.city.to_uppercase(),
                        fold(&a.street).to_uppercase(),
                        a.citycode,
                        k
                    ));
                    all.push(a);
                }
            }
        }
    }
    (text, all)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Exact,
    Typo,
    NoAccents,
    Typing,
}

/// One edit (swap, drop, double or change a letter, never the first) in one word of 5+ letters.
fn typo(rng: &mut Rng, text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let long: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().filter(char::is_ascii_alphabetic).count() >= 5)
        .collect();
    if long.is_empty() {
        return text.to_owned();
    }
    let w = long[rng.below(long.len())];
    let mut chars: Vec<char> = words[w].chars().collect();
    let spots: Vec<usize> = (1..chars.len() - 1)
        .filter(|&i| chars[i].is_ascii_lowercase() && chars[i + 1].is_ascii_lowercase())
        .collect();
    if spots.is_empty() {
        return text.to_owned();
    }
    let i = spots[rng.below(spots.len())];
    match rng.below(4) {
        0 => chars.swap(i, i + 1),
        1 => {
            chars.remove(i);
        }
        2 => chars.insert(i, chars[i]),
        _ => chars[i] = if chars[i] == 'e' { 'a' } else { 'e' },
    }
    let word: String = chars.into_iter().collect();
    let mut out: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    out[w] = word;
    out.join(" ")
}

fn query(rng: &mut Rng, a: &Address, kind: Kind) -> String {
    let number = format!("{}{}", a.housenumber, a.rep);
    match kind {
        Kind::Exact => format!("{number} {} {} {}", a.street, a.postcode, a.city),
        Kind::Typo => typo(rng, &format!("{number} {} {}", a.street, a.city)),
        Kind::NoAccents => fold(&format!("{number} {} {}", a.street, a.city))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        Kind::Typing => {
            let street = fold(&a.street);
            let street = street
                .replacen("rue ", "r ", 1)
                .replacen("avenue ", "av ", 1)
                .replacen("boulevard ", "bd ", 1)
                .replacen("chemin ", "ch ", 1)
                .replacen("impasse ", "imp ", 1)
                .replacen("place ", "pl ", 1);
            // The commune typed up to the middle of its last word.
            let city = fold(&a.city);
            let mut words: Vec<&str> = city.split_whitespace().collect();
            let last = words.pop().unwrap_or_default();
            let cut = last.len().div_ceil(2).max(3).min(last.len());
            words.push(&last[..cut]);
            format!("{number} {street} {}", words.join(" "))
        }
    }
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let t = Instant::now();
    let (text, addresses) = generate();
    println!(
        "generated {} addresses, {:.0} MB of BAN CSV, in {:.1} s",
        addresses.len(),
        text.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    // To time `chevet import addresses` and the hub's loading on the same data.
    if let Ok(path) = std::env::var("CHEVET_BENCH_BAN_FILE") {
        std::fs::write(&path, &text).expect("writing the BAN file");
        println!("wrote {path}");
    }
    let rss_before = rss_kib();
    let t = Instant::now();
    let mut builder = IndexBuilder::new();
    for row in BanReader::new(text.as_bytes()).expect("a BAN file") {
        builder.add(&row.expect("a valid row"));
    }
    let read = t.elapsed();
    let index: AddressIndex = builder.build();
    let built = t.elapsed();
    println!(
        "read {} rows in {:.2} s, index built in {:.2} s more: {} addresses, {} streets; \
         index ~{:.0} MB (estimate), RSS grew {:.0} MB",
        addresses.len(),
        read.as_secs_f64(),
        (built - read).as_secs_f64(),
        index.len(),
        index.streets(),
        index.heap_bytes() as f64 / 1e6,
        match (rss_before, rss_kib()) {
            (Some(a), Some(b)) => (b.saturating_sub(a)) as f64 / 1024.0,
            _ => f64::NAN,
        }
    );
    drop(text);

    let mut rng = Rng(2026);
    let kinds = [Kind::Exact, Kind::Typo, Kind::NoAccents, Kind::Typing];
    let mut times: Vec<Duration> = Vec::with_capacity(QUERIES);
    let mut found = [0usize; 4];
    let mut asked = [0usize; 4];
    let mut misses = Vec::new();
    let mut examples = Vec::new();
    // Warm-up, untimed.
    for _ in 0..200 {
        let a = &addresses[rng.below(addresses.len())];
        std::hint::black_box(index.search(&query(&mut rng, a, Kind::Exact), 5));
    }
    for i in 0..QUERIES {
        let a = &addresses[rng.below(addresses.len())];
        let k = i % kinds.len();
        let q = query(&mut rng, a, kinds[k]);
        let t = Instant::now();
        let hits = index.search(&q, 5);
        times.push(t.elapsed());
        if i < kinds.len() {
            examples.push(format!("{:?}: {q:?}", kinds[k]));
        }
        let want = format!("{}{}", a.housenumber, a.rep);
        asked[k] += 1;
        if hits.iter().any(|h| {
            h.citycode == a.citycode
                && h.street == a.street
                && h.housenumber.as_deref() == Some(want.as_str())
        }) {
            found[k] += 1;
        } else if misses.len() < 8 {
            misses.push(format!(
                "{:?} {q:?} -> {:?}",
                kinds[k],
                hits.first().map(|h| &h.label)
            ));
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{QUERIES} queries: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*times.last().unwrap())
    );
    let total: usize = found.iter().sum();
    println!(
        "hit rate (address in the top 5): {:.1} % overall; exact {:.1} %, one typo {:.1} %, no accents {:.1} %, typing {:.1} %",
        100.0 * total as f64 / QUERIES as f64,
        100.0 * found[0] as f64 / asked[0] as f64,
        100.0 * found[1] as f64 / asked[1] as f64,
        100.0 * found[2] as f64 / asked[2] as f64,
        100.0 * found[3] as f64 / asked[3] as f64,
    );
    println!("queries like: {}", examples.join("; "));
    // The slowest kinds of query: a one-letter word being typed (every word starting with it),
    // common words only, a street name found in hundreds of communes, a long paste.
    let long = "12 rue de la republique ".repeat(8);
    let hard = [
        "12 r",
        "1 s",
        "rue de la",
        "12 rue de la republique",
        "saint",
        "a b c d e f g h i j",
        long.as_str(),
    ];
    let mut worst = (Duration::ZERO, "");
    for q in hard {
        for _ in 0..20 {
            let t = Instant::now();
            std::hint::black_box(index.search(q, 5));
            worst = worst.max((t.elapsed(), q));
        }
    }
    println!(
        "slowest of {} hard queries x 20: {:.3} ms ({:?})",
        hard.len(),
        ms(worst.0),
        worst.1
    );
    for m in misses {
        println!("  missed: {m}");
    }
}
