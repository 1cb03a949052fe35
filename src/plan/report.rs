//! `report.html` and `summary.md`: what a person reads after `seer plan`.
//!
//! The HTML page is self-contained (inline CSS, a few lines of inline JavaScript to sort the
//! tables, SVG charts drawn with plotters), so it can be mailed or attached to a ticket.

use std::fmt::Write as _;

use plotters::prelude::*;

use crate::time::{format_duration, rfc3339, Millis};

use super::result::{CapacityRow, Chart, Skipped, TrafficRow};

/// How many of the most urgent series get a chart.
pub const CHARTS: usize = 24;

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub generated_ms: Millis,
    pub capacity: &'a [CapacityRow],
    pub traffic: &'a [TrafficRow],
    pub skipped: &'a [Skipped],
    pub history_files: usize,
    pub samples: u64,
    pub wall_secs: f64,
}

/// Capacity rows, most urgent first: crossings inside the window by time, then later
/// crossings, then never.
pub fn by_urgency(rows: &[CapacityRow]) -> Vec<&CapacityRow> {
    let mut out: Vec<&CapacityRow> = rows.iter().collect();
    out.sort_by_key(|r| {
        (
            !r.crosses_within_window(),
            r.crossing_ms.unwrap_or(i64::MAX),
        )
    });
    out
}

fn when(at: Millis, t: Option<Millis>) -> String {
    match t {
        Some(t) if t <= at => "now".to_string(),
        Some(t) => format!(
            "{} (in {})",
            &rfc3339(t)[..16],
            format_duration((t - at) / 60_000 * 60_000)
        ),
        None => "never".to_string(),
    }
}

fn interval(at: Millis, lo: Option<Millis>, hi: Option<Millis>) -> String {
    let side = |t: Option<Millis>| match t {
        Some(t) if t <= at => "now".to_string(),
        Some(t) => format_duration((t - at) / 3_600_000 * 3_600_000),
        None => "never".to_string(),
    };
    format!("{} – {}", side(lo), side(hi))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draws one chart as an SVG string.
pub fn chart_svg(title: &str, chart: &Chart) -> String {
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (720, 260));
        let root = backend.into_drawing_area();
        let _ = draw(&root, title, chart);
        let _ = root.present();
    }
    svg
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    chart: &Chart,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let times = chart
        .history
        .iter()
        .map(|p| p.0)
        .chain(chart.forecast.iter().map(|p| p.0));
    let (t0, t1) = times.fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    if t0 >= t1 {
        return Ok(());
    }
    let values = chart
        .history
        .iter()
        .map(|p| p.1)
        .chain(chart.forecast.iter().flat_map(|p| [p.1, p.2, p.3]))
        .chain(chart.threshold)
        .filter(|v| v.is_finite());
    let (v0, v1) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let pad = ((v1 - v0) * 0.05).max(1e-9);
    let days = |t: i64| (t - t1) as f64 / 86_400_000.0;

    let mut ctx = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(days(t0)..0.0f64.max(days(t1)), (v0 - pad)..(v1 + pad))?;
    ctx.configure_mesh()
        .x_desc("days from the end of the forecast")
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let band: Vec<(f64, f64)> = chart
        .forecast
        .iter()
        .map(|p| (days(p.0), p.3))
        .chain(chart.forecast.iter().rev().map(|p| (days(p.0), p.2)))
        .filter(|p| p.1.is_finite())
        .collect();
    if band.len() > 2 {
        ctx.draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.15))))?;
    }
    ctx.draw_series(LineSeries::new(
        chart.history.iter().map(|p| (days(p.0), p.1)),
        BLACK.stroke_width(1),
    ))?;
    ctx.draw_series(LineSeries::new(
        chart.forecast.iter().map(|p| (days(p.0), p.1)),
        BLUE.stroke_width(2),
    ))?;
    if let Some(th) = chart.threshold {
        ctx.draw_series(LineSeries::new(
            [(days(t0), th), (0.0f64.max(days(t1)), th)],
            RED.stroke_width(1),
        ))?;
    }
    Ok(())
}

/// The whole page.
pub fn html(input: &ReportInput<'_>) -> String {
    let mut out = String::new();
    let urgent = by_urgency(input.capacity);
    let crossing = urgent.iter().filter(|r| r.crosses_within_window()).count();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>seer plan</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; font-size: 13px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }}
th {{ cursor: pointer; background: #f4f4f4; }}
tr.urgent td {{ background: #fff1f0; }}
.chart {{ display: inline-block; margin: 4px; }}
</style></head><body>
<h1>Capacity plan</h1>
<p>Generated {generated} from {files} history file(s), {samples} samples, in {wall:.1} s.
{crossing} of {total} capacity forecasts cross their threshold inside the rule's window;
{traffic} traffic forecasts; {skipped} series skipped.</p>
"#,
        generated = rfc3339(input.generated_ms),
        files = input.history_files,
        samples = input.samples,
        wall = input.wall_secs,
        total = input.capacity.len(),
        traffic = input.traffic.len(),
        skipped = input.skipped.len(),
    );

    out.push_str("<h2>Capacity, most urgent first</h2>\n<table class=\"sortable\"><thead><tr>");
    for h in [
        "series",
        "rule",
        "model",
        "current",
        "threshold",
        "crosses",
        "interval",
        "in window",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in &urgent {
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td>{series}</td><td>{rule}</td><td>{model}</td>\
             <td data-v=\"{current}\">{current:.2}</td><td data-v=\"{th}\">{th:.2}</td>\
             <td data-v=\"{cross_v}\">{cross}</td><td>{interval}</td><td>{inwin}</td></tr>",
            class = if r.crosses_within_window() {
                "urgent"
            } else {
                ""
            },
            series = escape(&r.labels.to_string()),
            rule = escape(&r.rule),
            model = escape(&r.model),
            current = r.current,
            th = r.threshold,
            cross_v = r.crossing_ms.unwrap_or(i64::MAX),
            cross = when(r.at_ms, r.crossing_ms),
            interval = interval(r.at_ms, r.earliest_ms, r.latest_ms),
            inwin = if r.crosses_within_window() {
                "yes"
            } else {
                "no"
            },
        );
    }
    out.push_str("</tbody></table>\n");

    if !input.traffic.is_empty() {
        out.push_str("<h2>Traffic</h2>\n<table class=\"sortable\"><thead><tr>");
        for h in [
            "series",
            "rule",
            "model",
            "current",
            "peak",
            "peak at",
            "peak (upper)",
            "replicas",
        ] {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr></thead><tbody>\n");
        for r in input.traffic {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td data-v=\"{c}\">{c:.1}</td>\
                 <td data-v=\"{p}\">{p:.1}</td><td>{at}</td><td>{u:.1}</td><td>{rep}</td></tr>",
                escape(&r.labels.to_string()),
                escape(&r.rule),
                escape(&r.model),
                c = r.current,
                p = r.peak,
                at = &rfc3339(r.peak_at_ms)[..16],
                u = r.peak_upper,
                rep = r
                    .replicas
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into()),
            );
        }
        out.push_str("</tbody></table>\n");
    }

    out.push_str(
        "<h2>Charts of the most urgent series</h2>\n<p>Black: history; blue: forecast \
                  and its band; red: threshold.</p>\n",
    );
    for r in urgent.iter().take(CHARTS) {
        let title = format!("{} — {}", r.labels, when(r.at_ms, r.crossing_ms));
        let _ = writeln!(
            out,
            "<div class=\"chart\">{}</div>",
            chart_svg(&title, &r.chart)
        );
    }
    for r in input.traffic.iter().take(CHARTS / 4) {
        let title = format!("{} — peak {:.1}", r.labels, r.peak);
        let _ = writeln!(
            out,
            "<div class=\"chart\">{}</div>",
            chart_svg(&title, &r.chart)
        );
    }

    if !input.skipped.is_empty() {
        out.push_str(
            "<h2>Skipped series</h2>\n<table><thead><tr><th>series</th><th>rule</th>\
                      <th>reason</th></tr></thead><tbody>\n",
        );
        for s in input.skipped {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&s.labels.to_string()),
                escape(&s.rule),
                escape(&s.reason)
            );
        }
        out.push_str("</tbody></table>\n");
    }

    out.push_str(SORT_SCRIPT);
    out.push_str("</body></html>\n");
    out
}

/// Click a column header to sort by it (numbers by their `data-v`, text otherwise).
const SORT_SCRIPT: &str = r#"<script>
document.querySelectorAll("table.sortable th").forEach((th, col) => {
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const asc = th.dataset.asc !== "true";
    th.dataset.asc = asc;
    const key = (tr) => {
      const td = tr.children[col];
      const v = td.dataset.v;
      return v !== undefined ? parseFloat(v) : td.textContent;
    };
    [...body.rows]
      .sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (asc ? 1 : -1))
      .forEach((tr) => body.appendChild(tr));
  });
});
</script>
"#;

/// `summary.md`: the urgent series and the counts, for a terminal or a ticket.
pub fn markdown(input: &ReportInput<'_>) -> String {
    let mut out = String::new();
    let urgent = by_urgency(input.capacity);
    let crossing: Vec<&&CapacityRow> = urgent
        .iter()
        .filter(|r| r.crosses_within_window())
        .collect();
    let _ = writeln!(
        out,
        "# seer plan — {}\n",
        &rfc3339(input.generated_ms)[..16]
    );
    let _ = writeln!(
        out,
        "{} capacity forecasts ({} cross their threshold inside the window), {} traffic \
         forecasts, {} skipped; {} samples from {} files in {:.1} s.\n",
        input.capacity.len(),
        crossing.len(),
        input.traffic.len(),
        input.skipped.len(),
        input.samples,
        input.history_files,
        input.wall_secs
    );
    if !crossing.is_empty() {
        out.push_str("## Will cross inside the window\n\n| series | rule | current | threshold | crosses | interval |\n|---|---|---|---|---|---|\n");
        for r in crossing.iter().take(50) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {:.2} | {:.2} | {} | {} |",
                r.labels,
                r.rule,
                r.current,
                r.threshold,
                when(r.at_ms, r.crossing_ms),
                interval(r.at_ms, r.earliest_ms, r.latest_ms)
            );
        }
        if crossing.len() > 50 {
            let _ = writeln!(
                out,
                "\n… and {} more (see report.html).",
                crossing.len() - 50
            );
        }
        out.push('\n');
    }
    if !input.traffic.is_empty() {
        let mut top: Vec<&TrafficRow> = input.traffic.iter().collect();
        top.sort_by(|a, b| b.peak.total_cmp(&a.peak));
        out.push_str(
            "## Busiest forecast traffic\n\n| series | peak | at | replicas |\n|---|---|---|---|\n",
        );
        for r in top.iter().take(10) {
            let _ = writeln!(
                out,
                "| `{}` | {:.1} | {} | {} |",
                r.labels,
                r.peak,
                &rfc3339(r.peak_at_ms)[..16],
                r.replicas
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into())
            );
        }
        out.push('\n');
    }
    out
}
