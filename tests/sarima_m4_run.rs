//! The `seer eval m4` runner on generated tasks: scoring, fallbacks and report fields. (The
//! full M4 hourly run is not a unit test; see the module docs of `seer::eval::m4_run`.)

use seer::eval::m4::M4Task;
use seer::eval::m4_run::{run_tasks, M4Model};

fn task(id: &str, n: usize, level: f64) -> M4Task {
    let value = |t: usize| {
        let phase = 2.0 * std::f64::consts::PI * t as f64 / 24.0;
        level + 10.0 * phase.sin() + ((t * 7919) % 13) as f64 / 13.0
    };
    M4Task {
        id: id.to_string(),
        train: (0..n).map(value).collect(),
        test: (n..n + 48).map(value).collect(),
    }
}

#[test]
fn seasonal_naive_scores_like_the_scorer_says() {
    let tasks = vec![task("H1", 24 * 10, 100.0), task("H2", 24 * 12, 50.0)];
    let report = run_tasks(&tasks, M4Model::Snaive).unwrap();
    assert_eq!((report.series, report.fallbacks), (2, 0));
    // The generator's noise has period 13, so seasonal naive is not exact but close.
    assert!(report.accuracy.mase < 1.5, "{report:?}");
    assert!(report.owa.is_finite() && report.fit_times.wall_s >= 0.0);
    assert_eq!(report.per_series.len(), 2);
}

#[test]
fn sarima_beats_naive2_on_a_clean_daily_pattern() {
    let tasks = vec![task("H1", 24 * 10, 100.0)];
    let report = run_tasks(&tasks, M4Model::Sarima).unwrap();
    assert_eq!(report.fallbacks, 0, "{report:?}");
    assert!(report.owa < 1.0, "{report:?}");
    assert!(
        report.per_series[0].detail.starts_with("SARIMA("),
        "{report:?}"
    );
}
