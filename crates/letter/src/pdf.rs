//! The letter as a PDF (krilla): A4 portrait pages of French medical-letter text, then the
//! paper-style ECG pages that `chevet-ecg` draws for each signal attachment.
//!
//! Text is laid out here: glyph advances are read from the font with `ttf-parser` and lines
//! are broken between words to fit the column; the glyphs are then placed one by one, so what
//! is measured is exactly what is drawn. Fonts are DejaVu Sans (full Latin coverage, so
//! French accents, œ, ₂, °), embedded and subset by krilla. A PDF printed by an ECG device
//! cannot be merged into this file: the letter names it as a separate attachment.

use std::sync::OnceLock;

use chevet_ecg::render::pdf::{draw_pages, Fonts};
use chevet_ecg::render::{PaperHeader, RenderOptions};
use krilla::color::rgb;
use krilla::configure::{Configuration, Validator};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime as PdfDateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};

use crate::model::Letter;
use crate::text::{self, date_long, date_short, time_fr};
use crate::LetterError;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 portrait, in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 62.0;
const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = 40.0;
const BOTTOM: f32 = PAGE_H - 58.0;

const BODY: f32 = 9.0;
const LEADING: f32 = 1.26;
const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
const GREY: (u8, u8, u8) = (0x5f, 0x63, 0x68);
const ACCENT: (u8, u8, u8) = (0x1f, 0x4e, 0x79);
const RULE: (u8, u8, u8) = (0xb8, 0xc4, 0xd0);
const BOX: (u8, u8, u8) = (0xf1, 0xf4, 0xf7);

/// Font programs and the metrics read from them.
struct FontSet {
    pdf: Fonts,
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

fn fonts() -> Result<&'static FontSet, LetterError> {
    static SET: OnceLock<Option<FontSet>> = OnceLock::new();
    SET.get_or_init(|| {
        Some(FontSet {
            pdf: Fonts {
                regular: Font::new(REGULAR.into(), 0)?,
                bold: Font::new(BOLD.into(), 0)?,
            },
            regular: ttf_parser::Face::parse(REGULAR, 0).ok()?,
            bold: ttf_parser::Face::parse(BOLD, 0).ok()?,
        })
    })
    .as_ref()
    .ok_or_else(|| LetterError::Pdf("the bundled DejaVu fonts cannot be read".into()))
}

impl FontSet {
    fn face(&self, bold: bool) -> &ttf_parser::Face<'static> {
        if bold {
            &self.bold
        } else {
            &self.regular
        }
    }

    /// Glyph id and advance (in em) of a character.
    fn glyph(&self, bold: bool, c: char) -> (u16, f32) {
        let face = self.face(bold);
        let upem = face.units_per_em().max(1) as f32;
        let c = if c == '\u{202f}' { '\u{a0}' } else { c };
        let gid = face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
        (
            gid.0,
            face.glyph_hor_advance(gid).unwrap_or(0) as f32 / upem,
        )
    }

    fn width(&self, bold: bool, size: f32, s: &str) -> f32 {
        s.chars().map(|c| self.glyph(bold, c).1).sum::<f32>() * size
    }
}

/// One thing to draw on a page. Coordinates in points from the top-left corner; text `y` is
/// the baseline.
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        s: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        color: (u8, u8, u8),
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: (u8, u8, u8),
    },
}

/// The letter pages being laid out.
struct Layout<'a> {
    f: &'a FontSet,
    pages: Vec<Vec<Op>>,
    y: f32,
    running_title: String,
}

impl<'a> Layout<'a> {
    fn new(f: &'a FontSet, running_title: String) -> Self {
        Layout {
            f,
            pages: vec![Vec::new()],
            y: TOP,
            running_title,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        let t = format!("{} (suite)", self.running_title);
        self.text(LEFT, self.y + 8.0, 8.0, false, GREY, &t);
        self.y += 14.0;
        self.line(LEFT, self.y, RIGHT, self.y, 0.5, RULE);
        self.y += 14.0;
    }

    /// Starts a new page unless `h` points are left.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), s: &str) {
        let s: String = s.chars().filter(|c| !c.is_control()).collect();
        if !s.is_empty() {
            self.ops().push(Op::Text {
                x,
                y,
                size,
                bold,
                color,
                s,
            });
        }
    }

    fn text_right(
        &mut self,
        right: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        s: &str,
    ) {
        let w = self.f.width(bold, size, s);
        self.text(right - w, y, size, bold, color, s);
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, color: (u8, u8, u8)) {
        self.ops().push(Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            color,
        });
    }

    /// Breaks runs of (bold, text) into lines of at most `max_w` points. Each line is a list
    /// of (bold, text, x offset).
    fn wrap(
        &self,
        runs: &[(bool, String)],
        size: f32,
        max_w: f32,
    ) -> Vec<Vec<(bool, String, f32)>> {
        // Words with their style; `space_before` says a breakable space precedes the word.
        let mut words: Vec<(bool, String, bool)> = Vec::new();
        let mut pending_space = false;
        for (bold, t) in runs {
            let t = french_spaces(t);
            let mut cur = String::new();
            for c in t.chars() {
                if c == ' ' || c == '\n' {
                    if !cur.is_empty() {
                        words.push((*bold, std::mem::take(&mut cur), pending_space));
                    }
                    pending_space = true;
                } else {
                    cur.push(c);
                }
            }
            if !cur.is_empty() {
                words.push((*bold, cur, pending_space));
                pending_space = false;
            }
        }
        let mut lines: Vec<Vec<(bool, String, f32)>> = Vec::new();
        let mut line: Vec<(bool, String, f32)> = Vec::new();
        let mut x = 0.0f32;
        for (bold, word, space_before) in words {
            let space = if space_before && !line.is_empty() {
                self.f.width(bold, size, " ")
            } else {
                0.0
            };
            let w = self.f.width(bold, size, &word);
            if !line.is_empty() && x + space + w > max_w {
                lines.push(std::mem::take(&mut line));
                x = 0.0;
            }
            if line.is_empty() && w > max_w {
                // A word longer than the column: break it between characters.
                let mut part = String::new();
                let mut pw = 0.0;
                for c in word.chars() {
                    let cw = self.f.glyph(bold, c).1 * size;
                    if pw + cw > max_w && !part.is_empty() {
                        lines.push(vec![(bold, std::mem::take(&mut part), 0.0)]);
                        pw = 0.0;
                    }
                    part.push(c);
                    pw += cw;
                }
                line.push((bold, part, 0.0));
                x = pw;
                continue;
            }
            let sp = if line.is_empty() { 0.0 } else { space };
            // Merge with the previous piece when the style is the same.
            match line.last_mut() {
                Some((b, s, _)) if *b == bold => {
                    if sp > 0.0 {
                        s.push(' ');
                    }
                    s.push_str(&word);
                }
                _ => line.push((
                    bold,
                    if sp > 0.0 {
                        format!(" {word}")
                    } else {
                        word.clone()
                    },
                    x,
                )),
            }
            x += sp + w;
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// A wrapped paragraph at `x`, `width` wide.
    fn paragraph(
        &mut self,
        runs: &[(bool, String)],
        x: f32,
        width: f32,
        size: f32,
        color: (u8, u8, u8),
    ) {
        let lh = size * LEADING;
        for line in self.wrap(runs, size, width) {
            self.ensure(lh);
            self.y += lh;
            for (bold, s, dx) in line {
                let s = s
                    .strip_prefix(' ')
                    .map(|r| (r, self.f.width(bold, size, " ")))
                    .unwrap_or((&s, 0.0));
                self.text(x + dx + s.1, self.y, size, bold, color, s.0);
            }
        }
    }

    fn bullet(&mut self, s: &str) {
        let lh = BODY * LEADING;
        // Keep a short item on one page; the first line fits, so the bullet goes beside it.
        let lines = self
            .wrap(&[(false, s.to_string())], BODY, RIGHT - LEFT - 12.0)
            .len()
            .clamp(1, 4);
        self.ensure(lh * lines as f32);
        let page = self.pages.len() - 1;
        let y = self.y + lh;
        self.paragraph(
            &[(false, s.to_string())],
            LEFT + 12.0,
            RIGHT - LEFT - 12.0,
            BODY,
            INK,
        );
        self.pages[page].push(Op::Text {
            x: LEFT + 3.0,
            y,
            size: BODY,
            bold: false,
            color: ACCENT,
            s: "•".into(),
        });
    }
}

/// Non-breaking spaces where French typography wants them (before : ; ! ? and inside « »).
fn french_spaces(s: &str) -> String {
    // Tabs and line breaks are spaces here; other control characters have no glyph.
    let s: String = s
        .chars()
        .filter_map(|c| match c {
            '\t' | '\r' | '\n' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    s.replace(" :", "\u{a0}:")
        .replace(" ;", "\u{a0};")
        .replace(" !", "\u{a0}!")
        .replace(" ?", "\u{a0}?")
        .replace("« ", "«\u{a0}")
        .replace(" »", "\u{a0}»")
        .replace(" %", "\u{a0}%")
}

/// The letter and its ECG pages as PDF bytes.
pub fn pdf(letter: &Letter) -> Result<Vec<u8>, LetterError> {
    letter.validate()?;
    let f = fonts()?;
    // PDF/A-1b: what the CI-SIS expects of a PDF carried in a level-1 CDA document
    // (formatCode urn:ihe:iti:xds-sd:pdf:2008); krilla checks the rules when finishing.
    let settings = SerializeSettings {
        configuration: Configuration::new_with_validator(Validator::A1_B),
        ..Default::default()
    };
    let mut document = Document::new_with(settings);
    document.set_metadata(metadata(letter));
    let pages = layout(letter, f);
    let n = pages.len();
    for (i, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| LetterError::Pdf("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, f, op);
        }
        footer(&mut surface, f, letter, i + 1, n);
        surface.finish();
        page.finish();
    }
    append_ecg_pages(&mut document, letter, f);
    document
        .finish()
        .map_err(|e| LetterError::Pdf(format!("{e:?}")))
}

/// THE call site of chevet-ecg's paper rendering: one set of A4 landscape pages per signal.
fn append_ecg_pages(document: &mut Document, letter: &Letter, f: &FontSet) {
    let patient = format!(
        "{} — né{} le {}",
        text::patient_name(letter),
        if letter.patient.sex == crate::model::Sex::Female {
            "e"
        } else {
            ""
        },
        date_short(letter.patient.birth_date)
    );
    for (i, e) in letter.ecgs.iter().enumerate() {
        let Some(ecg) = &e.signal else { continue };
        if ecg.is_empty() {
            continue;
        }
        let header = PaperHeader {
            patient: Some(patient.clone()),
            acquired: ecg
                .acquired_at
                .map(|t| format!("{} à {}", date_short(t.date()), time_fr(t)))
                .or_else(|| {
                    // The file has no time: the ECG was recorded during the visit.
                    let t = letter.time_zone.local(letter.visit.start);
                    Some(format!(
                        "{} à {} (visite)",
                        date_short(t.date()),
                        time_fr(t)
                    ))
                }),
            device: ecg.device.clone(),
            heart_rate_bpm: e
                .heart_rate_bpm
                .map(f64::from)
                .filter(|h| h.is_finite() && *h > 0.0),
            note: Some(format!(
                "ECG {} / {} — Dr {} — {}",
                i + 1,
                letter.ecgs.len(),
                letter.author.name.full(),
                letter.association.name
            )),
        };
        draw_pages(document, ecg, &header, &f.pdf, &RenderOptions::default());
    }
}

fn metadata(letter: &Letter) -> Metadata {
    let at = letter.time_zone.local(letter.document.created_at);
    let off = letter.time_zone.offset_minutes(letter.document.created_at);
    use chrono::{Datelike, Timelike};
    let date = PdfDateTime::new(at.year().clamp(0, 9999) as u16)
        .month(at.month() as u8)
        .day(at.day() as u8)
        .hour(at.hour() as u8)
        .minute(at.minute() as u8)
        .second(at.second() as u8)
        .utc_offset_hour((off / 60) as i8)
        .utc_offset_minute((off.abs() % 60) as u8);
    Metadata::new()
        .title(format!(
            "Lettre au médecin traitant — {}",
            letter.patient.name.full()
        ))
        .authors(vec![format!("Dr {}", letter.author.name.full())])
        .creator(letter.association.name.clone())
        .producer("Chevet".into())
        .language("fr-FR".into())
        .creation_date(date)
        .document_id(letter.document.id.clone())
}

fn draw(surface: &mut Surface, f: &FontSet, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            color,
            s,
        } => {
            let mut glyphs = Vec::with_capacity(s.len());
            for (i, c) in s.char_indices() {
                let (gid, adv) = f.glyph(*bold, c);
                glyphs.push(KrillaGlyph::new(
                    GlyphId::new(gid as u32),
                    adv,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                ));
            }
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*color)));
            let font = if *bold {
                f.pdf.bold.clone()
            } else {
                f.pdf.regular.clone()
            };
            surface.draw_glyphs(Point::from_xy(*x, *y), &glyphs, font, s, *size, false);
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            color,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(*x1, *y1);
            pb.line_to(*x2, *y2);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(color.0, color.1, color.2).into(),
                    width: *width,
                    ..Default::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Rect { x, y, w, h, color } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*color)));
                surface.draw_path(&path);
            }
        }
    }
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn footer(surface: &mut Surface, f: &FontSet, letter: &Letter, page: usize, pages: usize) {
    let y = PAGE_H - 40.0;
    draw(
        surface,
        f,
        &Op::Line {
            x1: LEFT,
            y1: y - 10.0,
            x2: RIGHT,
            y2: y - 10.0,
            width: 0.5,
            color: RULE,
        },
    );
    let who = format!(
        "{} — Lettre au médecin traitant — {} {}, né{} le {}",
        letter.association.name,
        letter.patient.name.family.to_uppercase(),
        letter.patient.name.given,
        if letter.patient.sex == crate::model::Sex::Female {
            "e"
        } else {
            ""
        },
        date_short(letter.patient.birth_date)
    );
    draw(
        surface,
        f,
        &Op::Text {
            x: LEFT,
            y,
            size: 7.5,
            bold: false,
            color: GREY,
            s: who,
        },
    );
    let p = format!("Page {page}/{pages}");
    let w = f.width(false, 7.5, &p);
    draw(
        surface,
        f,
        &Op::Text {
            x: RIGHT - w,
            y,
            size: 7.5,
            bold: false,
            color: GREY,
            s: p,
        },
    );
    let conf =
        "Document médical confidentiel, transmis par messagerie sécurisée de santé (MSSanté).";
    draw(
        surface,
        f,
        &Op::Text {
            x: LEFT,
            y: y + 10.0,
            size: 6.5,
            bold: false,
            color: GREY,
            s: conf.into(),
        },
    );
}

/// Lays out the letter pages.
fn layout(letter: &Letter, f: &FontSet) -> Vec<Vec<Op>> {
    let tz = letter.time_zone;
    let mut l = Layout::new(
        f,
        format!(
            "Lettre au médecin traitant — {} ({})",
            text::patient_name(letter),
            date_short(letter.patient.birth_date)
        ),
    );
    let col = RIGHT - LEFT;

    // Letterhead on the left: the association, then the doctor. The recipient on the right,
    // where a window envelope or a French reader expects it.
    let a = &letter.association;
    let dr = &letter.author;
    l.text(LEFT, TOP + 14.0, 15.0, true, ACCENT, &a.name);
    let mut y = TOP + 27.0;
    let mut head: Vec<String> = a.address.lines.clone();
    head.push(format!("{} {}", a.address.postal_code, a.address.city));
    let mut contact = Vec::new();
    if let Some(p) = &a.phone {
        contact.push(format!("Tél. {p}"));
    }
    if let Some(s) = &a.structure_id {
        contact.push(match s {
            crate::model::StructureId::Finess(n) => format!("FINESS {n}"),
            crate::model::StructureId::Siret(n) => format!("SIRET {n}"),
        });
    }
    if !contact.is_empty() {
        head.push(contact.join(" · "));
    }
    for line in &head {
        l.text(LEFT, y, 8.0, false, GREY, line);
        y += 10.0;
    }
    y += 6.0;
    l.text(LEFT, y, 9.5, true, INK, &format!("Dr {}", dr.name.full()));
    y += 11.0;
    let mut dr_id = vec![format!("RPPS {}", dr.rpps)];
    if let Some(p) = &dr.phone {
        dr_id.push(format!("Tél. {p}"));
    }
    l.text(LEFT, y, 8.0, false, GREY, &dr_id.join(" · "));
    y += 10.0;
    l.text(
        LEFT,
        y,
        8.0,
        false,
        GREY,
        &format!("MSSanté\u{a0}: {}", dr.mssante),
    );

    let rx = LEFT + col * 0.56;
    let r = &letter.recipient;
    let mut rec: Vec<(bool, String)> = vec![(true, format!("Docteur {}", r.name.full()))];
    if let Some(addr) = &r.address {
        rec.extend(addr.lines.iter().map(|s| (false, s.clone())));
        rec.push((false, format!("{} {}", addr.postal_code, addr.city)));
    }
    rec.push((false, format!("MSSanté\u{a0}: {}", r.mssante)));
    l.text(
        rx,
        TOP + 24.0,
        7.5,
        false,
        GREY,
        "Destinataire (médecin traitant)",
    );
    l.y = TOP + 26.0;
    for (bold, s) in rec {
        l.paragraph(&[(bold, s)], rx, RIGHT - rx, BODY, INK);
    }
    // Place and date under the recipient, then the rule.
    let created = tz.local(letter.document.created_at);
    let place = format!("{}, le {}", a.address.city, date_long(created.date()));
    l.y += 16.0;
    l.text_right(RIGHT, l.y, BODY, false, INK, &place);
    let y_rule = y.max(l.y) + 8.0;
    l.line(LEFT, y_rule, RIGHT, y_rule, 1.0, ACCENT);
    l.y = y_rule + 6.0;

    // Object and identity box (identity-vigilance: birth name, first name, birth date, sex, INS).
    let p = &letter.patient;
    let start = tz.local(letter.visit.start);
    let mut obj = format!(
        "Visite à domicile du {} — {}",
        date_long(start.date()),
        text::patient_name(letter)
    );
    if letter
        .ecgs
        .iter()
        .any(|e| e.signal.is_some() || !e.files.is_empty())
    {
        obj.push_str(", avec ECG");
    }
    l.paragraph(
        &[(true, "Objet\u{a0}: ".into()), (false, obj)],
        LEFT,
        col,
        BODY,
        INK,
    );
    l.y += 6.0;

    let mut id_lines: Vec<Vec<(bool, String)>> = Vec::new();
    let born = if p.sex == crate::model::Sex::Female {
        "née"
    } else {
        "né"
    };
    let mut ident = vec![
        (
            true,
            format!("{} {}", p.name.family.to_uppercase(), p.name.given),
        ),
        (
            false,
            format!(
                ", {born} le {} ({} ans)",
                date_short(p.birth_date),
                p.age_on(start.date())
            ),
        ),
    ];
    if let Some(b) = p.birth_family.as_deref().filter(|b| !b.trim().is_empty()) {
        ident.push((
            false,
            format!(" — nom de naissance\u{a0}: {}", b.trim().to_uppercase()),
        ));
    }
    ident.push((
        false,
        match p.sex {
            crate::model::Sex::Female => " — sexe\u{a0}: F".to_string(),
            crate::model::Sex::Male => " — sexe\u{a0}: M".to_string(),
            crate::model::Sex::Unknown => String::new(),
        },
    ));
    id_lines.push(ident);
    match &p.ins {
        Some(ins) if ins.qualified => id_lines.push(vec![
            (true, "INS\u{a0}: ".into()),
            (false, format!("{} (NIR, identité qualifiée)", ins.nir)),
        ]),
        Some(ins) => id_lines.push(vec![
            (true, "NIR\u{a0}: ".into()),
            (false, format!("{} (identité non qualifiée)", ins.nir)),
        ]),
        None => {}
    }
    let mut visit = format!("{} à {}", date_short(start.date()), time_fr(start));
    if let Some(end) = letter.visit.end {
        let end = tz.local(end);
        visit = format!("{visit} – {}", time_fr(end));
    }
    id_lines.push(vec![
        (true, "Visite\u{a0}: ".into()),
        (
            false,
            format!("{visit}, {}", letter.visit.address.one_line()),
        ),
    ]);
    let pad = 6.0;
    let lh = 8.5 * LEADING;
    let n_lines: usize = id_lines
        .iter()
        .map(|runs| l.wrap(runs, 8.5, col - 2.0 * pad).len())
        .sum();
    let box_h = n_lines as f32 * lh + 2.0 * pad - 2.0;
    let box_y = l.y;
    l.ops().push(Op::Rect {
        x: LEFT,
        y: box_y,
        w: col,
        h: box_h,
        color: BOX,
    });
    l.ops().push(Op::Rect {
        x: LEFT,
        y: box_y,
        w: 2.0,
        h: box_h,
        color: ACCENT,
    });
    l.y += pad - 3.0;
    for runs in &id_lines {
        l.paragraph(runs, LEFT + pad + 2.0, col - 2.0 * pad, 8.5, INK);
    }
    l.y += pad + 6.0;

    // Body.
    l.paragraph(&[(false, "Cher Confrère,".into())], LEFT, col, BODY, INK);
    l.y += 5.0;
    l.paragraph(&[(false, text::intro(letter))], LEFT, col, BODY, INK);
    for s in text::sections(letter) {
        l.y += 3.0;
        // Keep a heading with at least two lines of its content.
        l.ensure(BODY * LEADING * 3.0 + 4.0);
        l.y += BODY * LEADING;
        l.text(LEFT, l.y, BODY, true, ACCENT, s.title);
        l.y += 2.5;
        l.line(
            LEFT,
            l.y,
            LEFT + f.width(true, BODY, s.title),
            l.y,
            0.6,
            ACCENT,
        );
        l.y += 1.0;
        for para in &s.paragraphs {
            l.paragraph(&para.runs, LEFT, col, BODY, INK);
            l.y += 1.5;
        }
        for b in &s.bullets {
            l.bullet(b);
        }
    }

    // Closing and signature.
    l.y += 6.0;
    l.paragraph(
        &[(false, "Je reste à votre disposition pour tout renseignement complémentaire. Bien confraternellement,".into())],
        LEFT,
        col,
        BODY,
        INK,
    );
    l.ensure(62.0);
    l.y += 6.0;
    let sx = LEFT + col * 0.56;
    l.paragraph(
        &[(true, format!("Dr {}", dr.name.full()))],
        sx,
        RIGHT - sx,
        BODY + 0.5,
        INK,
    );
    l.paragraph(
        &[(false, format!("RPPS {}", dr.rpps))],
        sx,
        RIGHT - sx,
        8.5,
        INK,
    );
    l.paragraph(&[(false, a.name.clone())], sx, RIGHT - sx, 8.5, INK);
    l.y += 6.0;
    l.paragraph(&[(false, text::drafted_line(letter))], LEFT, col, 8.0, GREY);
    l.pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_within_column() {
        let f = fonts().unwrap();
        let l = Layout::new(f, String::new());
        let runs = vec![(false, "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Hélène Lefèvre-Dupré".to_string())];
        let lines = l.wrap(&runs, 10.0, 150.0);
        assert!(lines.len() > 3);
        for line in &lines {
            let (b, s, x) = line.last().unwrap();
            assert!(x + f.width(*b, 10.0, s) <= 150.5, "{s}");
        }
        let joined: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|p| p.1.clone()).collect::<String>())
            .collect();
        assert_eq!(joined.join(" ").replace("  ", " "), runs[0].1);
        // A word wider than the column is broken, not overflowing.
        let long = vec![(true, "x".repeat(200))];
        assert!(l.wrap(&long, 10.0, 50.0).len() > 5);
    }
}
