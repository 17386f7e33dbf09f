//! PDF output of the paper layout with krilla: A4 landscape pages appended to a document that
//! the caller owns (the letter adds them after its text), or a standalone file. Text is set
//! in DejaVu Sans, embedded and subset by krilla with a ToUnicode map, so accents print and
//! copy right.

use super::{layout, rows_per_page, PaperHeader, RenderOptions, Sheet, PAGE_H, PAGE_W};
use crate::Ecg;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{LineCap, LineJoin, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

/// The fonts the ECG pages print with.
#[derive(Debug, Clone)]
pub struct Fonts {
    pub regular: Font,
    pub bold: Font,
}

static REGULAR: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");

impl Fonts {
    /// DejaVu Sans regular and bold, compiled into the binary. `None` only if the bundled
    /// files were not valid fonts (they are: the tests load them).
    pub fn dejavu() -> Option<Fonts> {
        Some(Fonts {
            regular: Font::new(REGULAR.into(), 0)?,
            bold: Font::new(BOLD.into(), 0)?,
        })
    }
}

const PT_PER_MM: f32 = 72.0 / 25.4;

fn stroke(r: u8, g: u8, b: u8, width_mm: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(r, g, b).into(),
        width: width_mm,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        opacity: NormalizedF32::ONE,
        ..Stroke::default()
    }
}

/// Grid lines every `step` mm over the rectangle, as one path.
fn grid_path(sheet: &Sheet, step: f32, skip_every: Option<usize>) -> Option<krilla::geom::Path> {
    let (x, y, w, h) = sheet.grid;
    let mut pb = PathBuilder::new();
    let nx = (w / step).floor() as usize;
    for i in 0..=nx {
        if skip_every.is_some_and(|k| i % k == 0) {
            continue;
        }
        let gx = x + i as f32 * step;
        pb.move_to(gx, y);
        pb.line_to(gx, y + h);
    }
    let ny = (h / step).floor() as usize;
    for j in 0..=ny {
        if skip_every.is_some_and(|k| j % k == 0) {
            continue;
        }
        let gy = y + j as f32 * step;
        pb.move_to(x, gy);
        pb.line_to(x + w, gy);
    }
    pb.finish()
}

fn polyline(points: &[(f32, f32)]) -> Option<krilla::geom::Path> {
    let mut it = points.iter();
    let &(x, y) = it.next()?;
    let mut pb = PathBuilder::new();
    pb.move_to(x, y);
    for &(x, y) in it {
        pb.line_to(x, y);
    }
    pb.finish()
}

fn draw_sheet(surface: &mut Surface, sheet: &Sheet, fonts: &Fonts) {
    surface.push_transform(&Transform::from_scale(PT_PER_MM, PT_PER_MM));
    surface.set_fill(None);
    // Minor lines, then major lines over them (every 5th minor line is left to the major).
    if let Some(p) = grid_path(sheet, 1.0, Some(5)) {
        surface.set_stroke(Some(stroke(0xf6, 0xc9, 0xd0, 0.08)));
        surface.draw_path(&p);
    }
    if let Some(p) = grid_path(sheet, 5.0, None) {
        surface.set_stroke(Some(stroke(0xe5, 0x8f, 0x9f, 0.18)));
        surface.draw_path(&p);
    }
    surface.set_stroke(Some(stroke(0, 0, 0, 0.25)));
    for m in sheet.marks.iter().chain(&sheet.traces) {
        if let Some(p) = polyline(m) {
            surface.draw_path(&p);
        }
    }
    surface.set_stroke(None);
    surface.set_fill(Some(krilla::paint::Fill::default()));
    for l in &sheet.labels {
        let font = if l.bold {
            fonts.bold.clone()
        } else {
            fonts.regular.clone()
        };
        surface.draw_text(
            Point::from_xy(l.x, l.y),
            font,
            l.size,
            &l.text,
            false,
            TextDirection::Auto,
        );
    }
    surface.pop();
}

/// Appends the ECG page(s), A4 landscape, to `document`: one page for a 12-lead recording,
/// four 10 s strips per page otherwise.
pub fn draw_pages(
    document: &mut krilla::Document,
    ecg: &Ecg,
    header: &PaperHeader,
    fonts: &Fonts,
    options: &RenderOptions,
) {
    for sheet in layout(ecg, header, options, Some(rows_per_page())) {
        let Some(settings) = PageSettings::from_wh(PAGE_W * PT_PER_MM, PAGE_H * PT_PER_MM) else {
            return;
        };
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        draw_sheet(&mut surface, &sheet, fonts);
        surface.finish();
        page.finish();
    }
}

/// The paper layout as a standalone PDF file (empty if the PDF could not be written, which
/// krilla only refuses for export-validation settings this function does not use).
pub fn pdf(ecg: &Ecg, header: &PaperHeader, options: &RenderOptions) -> Vec<u8> {
    let Some(fonts) = Fonts::dejavu() else {
        return Vec::new();
    };
    let mut document = krilla::Document::new();
    draw_pages(&mut document, ecg, header, &fonts, options);
    document.finish().unwrap_or_default()
}
