//! Charts drawn as SVG on the server (no script; sharp when printed and on a phone): the
//! horizontal bars of a breakdown, and the monthly columns of a trend.

/// A horizontal bar chart.
#[derive(Default)]
pub struct Chart {
    pub bars: Vec<ChartBar>,
    pub height: i64,
}

pub struct ChartBar {
    pub label: String,
    pub n: i64,
    /// Bar length in the 480-wide view box (the label takes the first 120).
    pub w: i64,
    pub y: i64,
    pub href: String,
}

/// Rows 24 high; the longest bar 300 wide.
pub(crate) fn chart(items: &[(String, i64)], label: impl Fn(&str) -> String, href: impl Fn(&str) -> String) -> Chart {
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let bars: Vec<ChartBar> = items
        .iter()
        .enumerate()
        .map(|(i, (k, n))| ChartBar {
            label: label(k),
            n: *n,
            w: (n * 300 / max).max(2),
            y: i as i64 * 24,
            href: href(k),
        })
        .collect();
    Chart { height: (bars.len() as i64 * 24).max(24), bars }
}

/// A trend: one column per period in a 480 × 180 view box, its value above it and the
/// period under it; a period without a value has no column and shows "—".
#[derive(Default)]
pub struct Trend {
    pub cols: Vec<TrendCol>,
}

pub struct TrendCol {
    pub x: i64,
    pub w: i64,
    /// Top of the column and its height (the baseline is at 150).
    pub y: i64,
    pub h: i64,
    /// The x of the column's middle, for its texts.
    pub mid: i64,
    pub label: String,
    pub value: String,
}

/// Columns scaled to the largest value (or to `max` when given, e.g. 100 for a rate).
pub(crate) fn trend(points: &[(String, Option<f64>)], max: Option<f64>, unit: &str) -> Trend {
    let n = points.len().max(1) as i64;
    let top = max.unwrap_or_else(|| points.iter().filter_map(|(_, v)| *v).fold(0.0, f64::max)).max(f64::EPSILON);
    let step = 460 / n;
    let cols = points
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let h = v.map(|v| ((v / top) * 120.0).round().clamp(0.0, 120.0) as i64).unwrap_or(0);
            let x = 10 + i as i64 * step + step / 6;
            let w = (step * 2 / 3).max(2);
            TrendCol {
                x,
                w,
                y: 150 - h,
                h,
                mid: x + w / 2,
                label: label.clone(),
                value: match v {
                    Some(v) if v.fract() == 0.0 => format!("{v}{unit}"),
                    Some(v) => format!("{v:.1}{unit}"),
                    None => "—".into(),
                },
            }
        })
        .collect();
    Trend { cols }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_scales_to_its_top_and_leaves_gaps_empty() {
        let t = trend(&[("01".into(), Some(50.0)), ("02".into(), None), ("03".into(), Some(100.0))], Some(100.0), "%");
        assert_eq!(t.cols.len(), 3);
        assert_eq!((t.cols[0].h, t.cols[2].h), (60, 120), "half of the top is half the height");
        assert_eq!((t.cols[1].h, t.cols[1].value.as_str()), (0, "—"));
        assert_eq!(t.cols[2].value, "100%");
        assert!(t.cols.windows(2).all(|w| w[0].x + w[0].w < w[1].x), "columns do not overlap");
        let counts = trend(&[("a".into(), Some(3.0)), ("b".into(), Some(6.0))], None, "");
        assert_eq!(counts.cols[1].h, 120, "without a top, the largest value is");
        assert_eq!(trend(&[], None, "").cols.len(), 0);
    }
}
