//! SVG output of the paper layout, for the phone: a millimetre viewBox that scales to any
//! screen width, the grid as two `<pattern>`s, traces decimated to what paper can show.

use super::{layout, PaperHeader, RenderOptions, Sheet};
use crate::Ecg;
use std::fmt::Write;

/// Minor (1 mm) and major (5 mm) grid colours: the usual pink of ECG paper.
pub(crate) const MINOR: &str = "#f3b8c2";
pub(crate) const MAJOR: &str = "#e07a8e";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A polyline as path data with relative moves, two decimals (0.01 mm).
fn path_data(points: &[(f32, f32)], out: &mut String) {
    let r = |v: f32| (v * 100.0).round() as i64;
    let mut it = points.iter();
    let Some(&(x, y)) = it.next() else { return };
    let (mut px, mut py) = (r(x), r(y));
    let _ = write!(out, "M{} {}l", fmt_fixed(px), fmt_fixed(py));
    for &(x, y) in it {
        let (nx, ny) = (r(x), r(y));
        let (dx, dy) = (nx - px, ny - py);
        // A separator is needed unless the next number starts with '-'.
        let _ = write!(out, " {}", fmt_fixed(dx));
        if dy < 0 {
            out.push_str(&fmt_fixed(dy));
        } else {
            let _ = write!(out, " {}", fmt_fixed(dy));
        }
        px = nx;
        py = ny;
    }
}

/// Hundredths as a short decimal: 125 → "1.25", -5 → "-.05", 300 → "3".
fn fmt_fixed(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let (int, frac) = (a / 100, a % 100);
    let int_s = if int == 0 && frac != 0 {
        String::new()
    } else {
        int.to_string()
    };
    match frac {
        0 => format!("{sign}{int}"),
        f if f % 10 == 0 => format!("{sign}{int_s}.{}", f / 10),
        f => format!("{sign}{int_s}.{f:02}"),
    }
}

fn sheet_svg(sheet: &Sheet, out: &mut String) {
    let (gx, gy, gw, gh) = sheet.grid;
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMin meet" font-family="DejaVu Sans, Verdana, Arial, sans-serif">"#,
        w = sheet.width,
        h = sheet.height
    );
    let _ = write!(
        out,
        concat!(
            r#"<defs><pattern id="ecg-minor" width="1" height="1" patternUnits="userSpaceOnUse" x="{gx}" y="{gy}">"#,
            r#"<path d="M1 0V1H0" fill="none" stroke="{minor}" stroke-width="0.1"/></pattern>"#,
            r#"<pattern id="ecg-major" width="5" height="5" patternUnits="userSpaceOnUse" x="{gx}" y="{gy}">"#,
            r#"<rect width="5" height="5" fill="url(#ecg-minor)"/>"#,
            r#"<path d="M5 0V5H0" fill="none" stroke="{major}" stroke-width="0.22"/></pattern></defs>"#
        ),
        gx = gx,
        gy = gy,
        minor = MINOR,
        major = MAJOR
    );
    let _ = write!(
        out,
        r#"<rect width="{}" height="{}" fill="white"/>"#,
        sheet.width, sheet.height
    );
    let _ = write!(
        out,
        r#"<rect x="{gx}" y="{gy}" width="{gw}" height="{gh}" fill="url(#ecg-major)" stroke="{MAJOR}" stroke-width="0.14"/>"#
    );
    out.push_str(r#"<g fill="none" stroke="black" stroke-width="0.3" stroke-linejoin="round" stroke-linecap="round">"#);
    for m in &sheet.marks {
        out.push_str(r#"<path class="mark" d=""#);
        path_data(m, out);
        out.push_str(r#""/>"#);
    }
    for t in &sheet.traces {
        out.push_str(r#"<path class="trace" d=""#);
        path_data(t, out);
        out.push_str(r#""/>"#);
    }
    out.push_str("</g>");
    for l in &sheet.labels {
        let _ = write!(
            out,
            r#"<text x="{:.2}" y="{:.2}" font-size="{}"{}>{}</text>"#,
            l.x,
            l.y,
            l.size,
            if l.bold { r#" font-weight="bold""# } else { "" },
            escape(&l.text)
        );
    }
    out.push_str("</svg>");
}

/// The paper layout as a standalone SVG document, every row on one sheet.
pub fn svg(ecg: &Ecg, header: &PaperHeader, options: &RenderOptions) -> String {
    let sheets = layout(ecg, header, options, None);
    let mut out = String::with_capacity(256 * 1024);
    for s in sheets.iter().take(1) {
        sheet_svg(s, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fmt_fixed;

    #[test]
    fn short_decimals() {
        assert_eq!(fmt_fixed(125), "1.25");
        assert_eq!(fmt_fixed(-5), "-.05");
        assert_eq!(fmt_fixed(300), "3");
        assert_eq!(fmt_fixed(-250), "-2.5");
        assert_eq!(fmt_fixed(0), "0");
    }
}
