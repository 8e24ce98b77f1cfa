//! Charts drawn on the server as SVG, with the figures in the accessible label, so pages need no script to show
//! them and screen readers read the numbers.

/// A share in [0, 1] as a percentage with one decimal, or a dash when there is nothing to count.
pub fn percent(v: &serde_json::Value) -> String {
    v.as_f64().map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
}

/// Escapes text for an SVG attribute or text node.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Vertical bars, one per (label, value); `max` fixes the top of the scale (for shares use 1.0), else the largest.
pub fn bars(points: &[(String, f64)], label: &str, colour: &str, max: Option<f64>, decimals: usize) -> String {
    let (w, h) = (360i64, 120i64);
    let n = points.len().max(1) as i64;
    let step = (w / n).max(1);
    let top = max.unwrap_or_else(|| points.iter().map(|p| p.1).fold(0.0, f64::max)).max(f64::EPSILON);
    let alt = points.iter().map(|(k, v)| format!("{k} {v:.decimals$}")).collect::<Vec<_>>().join(", ");
    let mut s =
        format!("<svg viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"{}: {}\">", h + 20, esc(label), esc(&alt));
    for (i, (k, v)) in points.iter().enumerate() {
        let bh = ((v / top).clamp(0.0, 1.0) * (h - 12) as f64).round() as i64;
        let x = i as i64 * step;
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{bh}\" fill=\"{colour}\"></rect><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + 2,
            h - bh,
            (step - 4).max(1),
            x + step / 2,
            h + 14,
            esc(k)
        ));
        if *v > 0.0 {
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{v:.decimals$}</text>",
                x + step / 2,
                (h - bh - 2).max(10)
            ));
        }
    }
    s.push_str("</svg>");
    s
}

/// Lines on a 0–1 scale, one per series (name, colour, values by label), with a legend.
pub fn lines(labels: &[String], series: &[(String, &str, Vec<Option<f64>>)], label: &str) -> String {
    let (w, h, left) = (360f64, 120f64, 28f64);
    let n = labels.len().max(2) as f64;
    let x = |i: usize| left + (w - left - 8.0) * i as f64 / (n - 1.0);
    let y = |v: f64| 8.0 + (h - 16.0) * (1.0 - v.clamp(0.0, 1.0));
    let alt = series
        .iter()
        .map(|(name, _, vals)| {
            let v: Vec<String> = labels
                .iter()
                .zip(vals)
                .map(|(l, v)| format!("{l} {}", v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))))
                .collect();
            format!("{name}: {}", v.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut s =
        format!("<svg viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"{}: {}\">", h + 36.0, esc(label), esc(&alt));
    for g in [0.0, 0.5, 1.0] {
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{0}\" y2=\"{0}\" stroke=\"#bbb\" stroke-width=\"0.5\"></line><text x=\"0\" y=\"{1}\" font-size=\"9\">{2}%</text>",
            y(g),
            y(g) + 3.0,
            (g * 100.0) as i64
        ));
    }
    for (i, l) in labels.iter().enumerate() {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
            x(i),
            h + 8.0,
            esc(l)
        ));
    }
    for (k, (name, colour, vals)) in series.iter().enumerate() {
        let pts: Vec<String> =
            vals.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"></polyline>",
            pts.join(" ")
        ));
        let lx = left + k as f64 * 110.0;
        s.push_str(&format!(
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"4\" fill=\"{colour}\"></rect><text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
            h + 22.0,
            lx + 14.0,
            h + 27.0,
            esc(name)
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_carry_their_figures_in_the_label_and_escape_text() {
        let svg = bars(&[("1月".into(), 3.0), ("<b>".into(), 0.0)], "已办", "#000", None, 0);
        assert!(svg.contains("aria-label=\"已办: 1月 3, &lt;b&gt; 0\""));
        assert!(!svg.contains("<b>"));
        let svg = lines(&["1月".into(), "2月".into()], &[("响应率".into(), "#f00", vec![Some(1.0), None])], "三率");
        assert!(svg.contains("响应率: 1月 100%, 2月 —"));
        assert_eq!(svg.matches("<polyline").count(), 1);
    }
}
