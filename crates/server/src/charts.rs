//! Charts drawn as SVG in Rust, accessible: each has a `<title>` and `<desc>` (named by
//! `aria-labelledby`), and the numbers behind it in a real table next to it, so nothing is
//! known only from colour or shape. No fonts, scripts or styles from outside.

use std::fmt::Write;

use html_escape::encode_text as esc;

/// One series of a chart: a name, a fill colour and one value per category.
#[derive(Debug, Clone)]
pub struct Series {
    /// The name in the legend and the table.
    pub name: String,
    /// The fill colour (#rrggbb).
    pub colour: &'static str,
    /// One value per category.
    pub values: Vec<u64>,
}

/// Colours with at least 3:1 contrast against white, told apart by the legend and the table.
pub const PALETTE: [&str; 6] = [
    "#005eb8", "#d5281b", "#007f3b", "#330072", "#ae2573", "#425563",
];

/// The drawing area shared by the bar charts over categories: its size, margins and the width
/// of a category and of its bar.
#[derive(Debug, Clone, Copy)]
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    top: f64,
    plot: f64,
    step: f64,
    bar: f64,
    count: usize,
    max: f64,
}

impl Frame {
    /// The frame of `count` categories whose highest value is `max`.
    fn new(count: usize, max: f64) -> Frame {
        let (width, height) = (720.0_f64, 240.0_f64);
        let (left, bottom, top) = (48.0, 28.0, 10.0);
        let step = (width - left) / count as f64;
        Frame {
            width,
            height,
            left,
            top,
            plot: height - bottom - top,
            step,
            bar: (step * 0.8).max(1.0),
            count,
            max,
        }
    }

    /// Opens the SVG: its title, description and the value grid.
    fn open(&self, id: &str, title: &str, desc: &str) -> String {
        let Frame {
            width,
            height,
            left,
            top,
            plot,
            max,
            ..
        } = *self;
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-t {id}-d" focusable="false"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
            esc(title),
            esc(desc)
        );
        for tick in [0.0, 0.5, 1.0] {
            let y = top + plot * (1.0 - tick);
            let value = (max * tick).round();
            let _ = write!(
                svg,
                "<line x1=\"{left}\" x2=\"{width}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d8dde0\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#212b32\">{value}</text>",
                left - 4.0,
                y + 4.0
            );
        }
        svg
    }

    /// Labels every few categories under the bars (at most about eight) and closes the SVG.
    fn close(&self, svg: &mut String, categories: &[String]) {
        let label_every = self.count.div_ceil(8).max(1);
        for (i, name) in categories.iter().enumerate() {
            if i % label_every != 0 {
                continue;
            }
            let x = self.left + self.step * i as f64 + self.step / 2.0;
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#212b32\">{}</text>",
                self.height - 8.0,
                esc(name)
            );
        }
        svg.push_str("</svg>");
    }
}

/// A stacked bar chart over `categories` (time buckets, hours), with its table.
pub fn stacked_bars(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[String],
    series: &[Series],
) -> String {
    let count = categories.len().max(1);
    let totals: Vec<u64> = (0..count)
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let frame = Frame::new(count, max as f64);
    let Frame {
        left,
        top,
        step,
        bar,
        plot,
        ..
    } = frame;
    let mut svg = frame.open(id, title, desc);
    for (i, _) in totals.iter().enumerate() {
        let x = left + step * i as f64 + (step - bar) / 2.0;
        let mut y = top + plot;
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let h = plot * v as f64 / max as f64;
            y -= h;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
                s.colour
            );
        }
    }
    frame.close(&mut svg, categories);
    let mut legend = String::from("<ul class=\"legend\">");
    for s in series {
        let _ = write!(
            legend,
            "<li><span class=\"swatch\" data-colour=\"{}\" aria-hidden=\"true\"><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"{}\"/></svg></span>{}</li>",
            s.colour,
            s.colour,
            esc(&s.name)
        );
    }
    legend.push_str("</ul>");
    let mut headers = vec!["Period".to_owned()];
    headers.extend(series.iter().map(|s| s.name.clone()));
    headers.push("Total".into());
    let rows: Vec<Vec<String>> = categories
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut row = vec![name.clone()];
            row.extend(
                series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0).to_string()),
            );
            row.push(totals.get(i).copied().unwrap_or(0).to_string());
            row
        })
        .collect();
    figure(
        title,
        &format!("{svg}{legend}"),
        &table(title, &headers, &rows),
    )
}

/// A horizontal bar chart of named counts, with its table.
pub fn bars(id: &str, title: &str, desc: &str, items: &[(String, u64)]) -> String {
    let width = 720.0_f64;
    let row = 26.0_f64;
    let label = 300.0_f64;
    let height = (row * items.len().max(1) as f64) + 8.0;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-t {id}-d" focusable="false"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    for (i, (name, value)) in items.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let w = (width - label - 60.0) * *value as f64 / max as f64;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\" fill=\"#212b32\">{}</text><rect x=\"{label}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#005eb8\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" fill=\"#212b32\">{value}</text>",
            label - 6.0,
            y + 16.0,
            esc(name),
            row - 8.0,
            label + w + 6.0,
            y + 16.0
        );
    }
    svg.push_str("</svg>");
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|(name, value)| vec![name.clone(), value.to_string()])
        .collect();
    figure(
        title,
        &svg,
        &table(title, &["Name".to_owned(), "Posts".to_owned()], &rows),
    )
}

/// Bars of posts per interval against a dashed line at the usual count per interval (the
/// baseline), with its table: the spike chart of the crisis view.
pub fn spike(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[String],
    values: &[u64],
    baseline: f64,
) -> String {
    let count = categories.len().max(1);
    let highest = values.iter().copied().max().unwrap_or(0) as f64;
    let max = highest.max(baseline).max(1.0);
    let frame = Frame::new(count, max);
    let Frame {
        left,
        width,
        top,
        step,
        bar,
        plot,
        ..
    } = frame;
    let mut svg = frame.open(id, title, desc);
    for (i, value) in values.iter().enumerate() {
        if *value == 0 {
            continue;
        }
        let x = left + step * i as f64 + (step - bar) / 2.0;
        let h = plot * *value as f64 / max;
        let y = top + plot - h;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
            PALETTE[0]
        );
    }
    let y = top + plot * (1.0 - baseline / max);
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{width}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
        PALETTE[1]
    );
    frame.close(&mut svg, categories);
    let legend = format!(
        "<ul class=\"legend\"><li><span class=\"swatch\" aria-hidden=\"true\"><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"{}\"/></svg></span>Posts</li><li><span class=\"swatch\" aria-hidden=\"true\"><svg width=\"12\" height=\"12\"><line x1=\"0\" x2=\"12\" y1=\"6\" y2=\"6\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"3 2\"/></svg></span>Usual ({baseline:.1} per interval)</li></ul>",
        PALETTE[0], PALETTE[1]
    );
    let rows: Vec<Vec<String>> = categories
        .iter()
        .enumerate()
        .map(|(i, name)| {
            vec![
                name.clone(),
                values.get(i).copied().unwrap_or(0).to_string(),
                format!("{baseline:.1}"),
            ]
        })
        .collect();
    figure(
        title,
        &format!("{svg}{legend}"),
        &table(
            title,
            &["Period".to_owned(), "Posts".to_owned(), "Usual".to_owned()],
            &rows,
        ),
    )
}

/// A table with a caption, header row and rows.
pub fn table(caption: &str, headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<table class=\"data\"><caption>{}</caption><thead><tr>",
        esc(caption)
    );
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(out, "<th scope=\"row\">{}</th>", esc(cell));
            } else {
                let _ = write!(out, "<td>{}</td>", esc(cell));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn figure(title: &str, chart: &str, table: &str) -> String {
    format!(
        "<figure class=\"figure\"><figcaption><h3>{}</h3></figcaption>{chart}<details><summary>Show the data table</summary>{table}</details></figure>",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_carry_title_desc_and_table() {
        let svg = stacked_bars(
            "v",
            "Volume <by> network",
            "Posts per hour",
            &["09:00".into(), "10:00".into()],
            &[Series {
                name: "X".into(),
                colour: PALETTE[0],
                values: vec![3, 5],
            }],
        );
        assert!(svg.contains("<title id=\"v-t\">Volume &lt;by&gt; network</title>"));
        assert!(svg.contains("aria-labelledby=\"v-t v-d\""));
        assert!(svg.contains("<th scope=\"row\">10:00</th><td>5</td><td>5</td>"));
        let bars = bars(
            "i",
            "Intents",
            "Posts per intent",
            &[("complaint".into(), 4)],
        );
        assert!(bars.contains("<td>4</td>") && bars.contains("<desc id=\"i-d\">"));
        let spike = spike(
            "s",
            "Posts per 5 minutes",
            "A spike",
            &["10:00".into(), "10:05".into()],
            &[2, 40],
            2.5,
        );
        assert!(spike.contains("stroke-dasharray=\"6 4\""));
        assert!(spike.contains("<th scope=\"row\">10:05</th><td>40</td><td>2.5</td>"));
    }
}
