use super::fit::median;
use super::*;

/// The series of the test: 12 points a minute apart, with an outlier at minute 4.
fn series() -> Vec<(i64, f64)> {
    let y = [
        10.0, 10.4, 11.1, 10.9, 30.0, 12.2, 12.1, 12.9, 13.4, 13.2, 14.1, 14.6,
    ];
    y.iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * 60_000, *v))
        .collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

#[test]
fn theil_sen_matches_scipy() {
    // scipy.stats.theilslopes(y, x - x[-1], 0.9, method="joint") (SciPy 1.17.1):
    // slope 0.006666666666666665, intercept 14.5, low 0.005833333333333342,
    // high 0.007333333333333331. Relative tolerance 1e-12.
    let points = series();
    let at = points.last().unwrap().0;
    let fit = LinearTrend::new(LinearMethod::TheilSen, 0.9)
        .unwrap()
        .fit(&points, at)
        .unwrap();
    assert!(close(fit.slope, 0.006666666666666665, 1e-12), "{fit:?}");
    assert!(close(fit.intercept, 14.5, 1e-12), "{fit:?}");
    assert!(
        close(fit.slope_lower, 0.005833333333333342, 1e-12),
        "{fit:?}"
    );
    assert!(
        close(fit.slope_upper, 0.007333333333333331, 1e-12),
        "{fit:?}"
    );
}

#[test]
fn least_squares_interval_matches_scipy() {
    // scipy.stats.linregress(x - x[-1], y) with t.ppf(0.975, 10) * stderr (SciPy 1.17.1):
    // slope 0.003479020979020978, intercept 14.889743589743588, 95 % interval
    // [-0.01368195669557469, 0.020639998653616647]. Relative tolerance 1e-10.
    let points = series();
    let at = points.last().unwrap().0;
    let fit = LinearTrend::new(LinearMethod::LeastSquares, 0.95)
        .unwrap()
        .fit(&points, at)
        .unwrap();
    assert!(close(fit.slope, 0.003479020979020978, 1e-10), "{fit:?}");
    assert!(close(fit.intercept, 14.889743589743588, 1e-10), "{fit:?}");
    assert!(
        close(fit.slope_lower, -0.01368195669557469, 1e-10),
        "{fit:?}"
    );
    assert!(
        close(fit.slope_upper, 0.020639998653616647, 1e-10),
        "{fit:?}"
    );
}

#[test]
fn least_squares_fit_is_predict_linear() {
    // The fitted line and predict_linear share their arithmetic: equal to the last bit.
    let points = series();
    let at = 11 * 60_000 + 7_000;
    let fit = LinearTrend::new(LinearMethod::LeastSquares, 0.95)
        .unwrap()
        .fit(&points, at)
        .unwrap();
    let promql = predict_linear(&points, at, 3_600_000, 600.0).unwrap();
    assert_eq!(fit.value_at(at + 600_000), promql);
}

#[test]
fn crossing_from_the_slope_interval() {
    // Level 14.5 now, slope 0.00667/s in [0.00583, 0.00733]: 20 more takes 3000 s, between
    // 20 / 0.00733 = 2727 s and 20 / 0.00583 = 3429 s.
    let points = series();
    let at = points.last().unwrap().0;
    let fit = LinearTrend::new(LinearMethod::TheilSen, 0.9)
        .unwrap()
        .fit(&points, at)
        .unwrap();
    let c = fit.crossing(34.5);
    assert!(close(c.estimate_secs.unwrap(), 3000.0, 1e-9), "{c:?}");
    assert!(close(
        c.earliest_secs.unwrap(),
        20.0 / 0.007333333333333331,
        1e-9
    ));
    assert!(close(
        c.latest_secs.unwrap(),
        20.0 / 0.005833333333333342,
        1e-9
    ));
    assert!(c.within(3600.0) && !c.within(2999.0));

    // Below the current level: reached.
    assert!(fit.crossing(14.0).is_reached());
}

#[test]
fn flat_or_falling_lines_never_cross() {
    let falling: Vec<(i64, f64)> = (0..20).map(|i| (i * 1000, 50.0 - i as f64)).collect();
    let fit = LinearTrend::new(LinearMethod::TheilSen, 0.95)
        .unwrap()
        .fit(&falling, 19_000)
        .unwrap();
    let c = fit.crossing(80.0);
    assert_eq!(
        (c.estimate_secs, c.earliest_secs, c.latest_secs),
        (None, None, None)
    );

    let flat: Vec<(i64, f64)> = (0..20).map(|i| (i * 1000, 5.0)).collect();
    let fit = LinearTrend::new(LinearMethod::LeastSquares, 0.95)
        .unwrap()
        .fit(&flat, 19_000)
        .unwrap();
    assert_eq!(fit.crossing(80.0).estimate_secs, None);
}

#[test]
fn bad_inputs_are_errors() {
    let trend = LinearTrend::new(LinearMethod::LeastSquares, 0.95).unwrap();
    let err = trend.fit(&[(0, 1.0), (1, 2.0)], 1).unwrap_err().to_string();
    assert!(err.contains("2 points"), "{err}");
    let err = trend
        .fit(&[(0, 1.0), (1, f64::NAN), (2, 3.0)], 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("point 1 is not finite"), "{err}");
    let err = trend
        .fit(&[(5, 1.0), (5, 2.0), (5, 3.0)], 5)
        .unwrap_err()
        .to_string();
    assert!(err.contains("same timestamp"), "{err}");
    assert!(LinearTrend::new(LinearMethod::TheilSen, 1.0).is_err());
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    assert!(median(&mut []).is_nan());
}
