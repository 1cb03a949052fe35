use super::fit::{run_fixed, FittedHolt};
use super::*;

/// 20 values with a slowing trend.
const SHORT: [f64; 20] = [
    10.0, 11.2, 11.9, 13.4, 13.9, 15.2, 15.8, 16.9, 17.3, 18.4, 18.7, 19.9, 20.1, 21.0, 21.2, 22.1,
    22.0, 22.9, 23.1, 23.6,
];

/// 60 values of `50 + 30 (1 - 0.93^t)` plus N(0, 0.6²) noise (numpy default_rng(7), rounded).
const DAMPED: [f64; 60] = [
    50.0, 52.28, 53.89, 55.33, 57.29, 58.53, 60.63, 62.75, 62.92, 64.02, 65.77, 66.71, 67.51,
    67.76, 69.12, 70.32, 69.8, 70.99, 70.73, 71.67, 71.87, 73.32, 73.16, 74.51, 74.84, 75.0, 73.94,
    75.45, 76.04, 76.41, 75.68, 76.55, 76.47, 76.78, 78.09, 77.15, 77.78, 78.48, 77.75, 78.16,
    78.42, 78.51, 77.84, 78.72, 79.58, 77.93, 79.45, 79.08, 78.69, 80.34, 79.66, 78.54, 79.36,
    79.71, 79.29, 79.86, 79.44, 79.92, 80.42, 79.18,
];

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

/// Checks a run with fixed parameters against statsmodels: final states, SSE, the mean path
/// and the variance path relative to the one-step variance.
fn check_against_statsmodels(
    fitted: &FittedHolt,
    sse: f64,
    want: (f64, f64, f64),
    means: [f64; 5],
    variances: [f64; 5],
) {
    assert!(close(fitted.level, want.0, 1e-12), "{fitted:?}");
    assert!(close(fitted.trend, want.1, 1e-12), "{fitted:?}");
    assert!(close(sse, want.2, 1e-12), "sse {sse}");
    let forecast = fitted.forecast(5, 0.95);
    let z = 1.959963984540054;
    for h in 0..5 {
        assert!(
            close(forecast.mean[h], means[h], 1e-12),
            "h {h}: {forecast:?}"
        );
        // Half-widths relative to the first: √(v_h / v_1).
        let ratio = (forecast.upper[h] - forecast.mean[h]) / (forecast.upper[0] - forecast.mean[0]);
        assert!(
            close(ratio, (variances[h] / variances[0]).sqrt(), 1e-12),
            "h {h}"
        );
        assert!(close(
            forecast.upper[0] - forecast.mean[0],
            z * fitted.sigma,
            1e-12
        ));
    }
}

#[test]
fn holt_recursions_match_statsmodels() {
    // statsmodels 0.15.0 ETSModel(error="add", trend="add", initialization_method="known",
    // initial_level=9, initial_trend=1).smooth([0.5, 0.1]); get_prediction over 5 steps.
    let (fitted, sse) = run_fixed(&SHORT, 0.5, 0.1, 1.0, (9.0, 1.0), 0.95);
    check_against_statsmodels(
        &fitted,
        sse,
        (23.73159857060026, 0.5146733650798501, 3.172114721059997),
        [
            24.24627193568011,
            24.76094530075996,
            25.27561866583981,
            25.790292030919662,
            26.304965395999513,
        ],
        [
            0.15860573605299985,
            0.21570380103207978,
            0.2934206116980497,
            0.3949282827719697,
            0.5233989289748995,
        ],
    );
}

#[test]
fn damped_recursions_match_statsmodels() {
    // As above with damped_trend=True and smooth([0.6, 0.2, 0.9]).
    let (fitted, sse) = run_fixed(&SHORT, 0.6, 0.2, 0.9, (9.0, 1.0), 0.95);
    check_against_statsmodels(
        &fitted,
        sse,
        (23.538068046146343, 0.36839602166376095, 2.5584716967823304),
        [
            23.869624465643728,
            24.168025243191373,
            24.436585942984255,
            24.67829057279785,
            24.895824739630083,
        ],
        [
            0.12792358483911653,
            0.20575229385523497,
            0.31926707779241276,
            0.4706401865770294,
            0.6607358822333143,
        ],
    );
}

#[test]
fn fit_is_at_least_as_good_as_statsmodels() {
    // statsmodels 0.15.0 ETSModel.fit() with the same known initial states (a line through the
    // first ten values): Holt SSE 28.555726263788152 (α 0.3159, β 0.2121), damped SSE
    // 26.035959413249792 (α 0.4005, β 0.0802, φ 0.9538, its φ bound 0.98). Our optimum may be
    // lower (a wider φ range), and must not be higher by more than 1e-6 relative.
    let holt = HoltModel::new(TrendSelection::Holt, 0.95)
        .unwrap()
        .fit(&DAMPED)
        .unwrap();
    let holt_sse = holt.sigma * holt.sigma * (60.0 - 5.0);
    assert!(holt_sse <= 28.555726263788152 * (1.0 + 1e-6), "{holt:?}");

    let damped = HoltModel::new(TrendSelection::Damped, 0.95)
        .unwrap()
        .fit(&DAMPED)
        .unwrap();
    let damped_sse = damped.sigma * damped.sigma * (60.0 - 6.0);
    assert!(
        damped_sse <= 26.035959413249792 * (1.0 + 1e-6),
        "{damped:?}"
    );

    // AICc prefers the damped form on a series that levels off.
    let auto = HoltModel::new(TrendSelection::Auto, 0.95)
        .unwrap()
        .fit(&DAMPED)
        .unwrap();
    assert!(auto.is_damped(), "{auto:?}");
    assert_eq!(auto.form(), "damped_holt");
}

#[test]
fn crossing_of_a_levelling_series() {
    let fit = HoltModel::new(TrendSelection::Damped, 0.95)
        .unwrap()
        .fit(&DAMPED)
        .unwrap();
    // The plateau is about 80: 100 is never reached by the mean nor by the lower edge.
    let far = fit.crossing(100.0, 60.0);
    assert_eq!(far.estimate_secs, None, "{far:?}");
    assert_eq!(far.latest_secs, None, "{far:?}");
    // Below the current level: reached.
    assert!(fit.crossing(70.0, 60.0).is_reached());
}

#[test]
fn crossing_of_a_straight_line_is_where_the_line_meets_the_level() {
    // y = 100 + 2 t with a small alternating wobble: Holt's trend is 2 per step, so from
    // about 239 at step 69 the level 300 is about 30.5 steps (of 60 s) away.
    let y: Vec<f64> = (0..70)
        .map(|t| 100.0 + 2.0 * t as f64 + if t % 2 == 0 { 0.1 } else { -0.1 })
        .collect();
    let fit = HoltModel::new(TrendSelection::Holt, 0.95)
        .unwrap()
        .fit(&y)
        .unwrap();
    let c = fit.crossing(300.0, 60.0);
    let estimate = c.estimate_secs.unwrap();
    let want = (300.0 - fit.level) / fit.trend * 60.0;
    assert!(close(estimate, want, 1e-9), "{c:?} vs {want}");
    assert!(close(estimate, 30.5 * 60.0, 0.02), "{c:?}");
    assert!(c.earliest_secs.unwrap() <= estimate && estimate <= c.latest_secs.unwrap());
}

#[test]
fn bad_inputs_are_errors() {
    let model = HoltModel::new(TrendSelection::Auto, 0.9).unwrap();
    let err = model.fit(&[1.0; 5]).unwrap_err().to_string();
    assert!(err.contains("5 values"), "{err}");
    let mut y = vec![1.0; 20];
    y[3] = f64::INFINITY;
    let err = model.fit(&y).unwrap_err().to_string();
    assert!(err.contains("value 3 is not finite"), "{err}");
    assert!(HoltModel::new(TrendSelection::Auto, 0.0).is_err());
}

#[test]
fn update_moves_like_the_fit() {
    let (mut all_but_last, _) = run_fixed(&SHORT[..19], 0.5, 0.1, 1.0, (9.0, 1.0), 0.95);
    let (all, _) = run_fixed(&SHORT, 0.5, 0.1, 1.0, (9.0, 1.0), 0.95);
    all_but_last.update(SHORT[19]);
    assert!(close(all_but_last.level, all.level, 1e-14));
    assert!(close(all_but_last.trend, all.trend, 1e-14));
}
