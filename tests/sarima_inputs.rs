//! SARIMA's contract on awkward input: constant, too short, all missing, gaps; and the
//! streaming update against a refit.

use seer::models::sarima::{AutoSarima, Coefficients, Order, SarimaModel};

fn seasonal(n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| {
            let phase = 2.0 * std::f64::consts::PI * t as f64 / 12.0;
            50.0 + 10.0 * phase.sin() + ((t * 7919) % 13) as f64 / 6.5
        })
        .collect()
}

#[test]
fn constant_series_forecasts_the_constant_with_a_zero_band() {
    let fitted = AutoSarima::new(12).fit(&[7.5; 60]).unwrap();
    assert!(fitted.summary.degenerate);
    let f = fitted.model.forecast(10, 0.9).unwrap();
    for v in f.mean.iter().chain(&f.lower).chain(&f.upper) {
        assert!((v - 7.5).abs() < 1e-9, "{f:?}");
    }
    // A fixed order with ARMA terms has nothing to fit: an error, not NaN.
    let err = SarimaModel::new(Order::arima(1, 1, 1))
        .unwrap()
        .fit(&[7.5; 60])
        .unwrap_err();
    assert!(err.to_string().contains("zero residual variance"), "{err}");
}

#[test]
fn too_short_and_all_missing_series_are_errors() {
    let err = AutoSarima::new(12)
        .fit(&[1.0, 2.0, 3.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("need at least"), "{err}");
    let err = AutoSarima::new(12)
        .fit(&[f64::NAN; 40])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no values"), "{err}");
    let err = AutoSarima::new(12).fit(&[]).unwrap_err().to_string();
    assert!(err.contains("no values"), "{err}");
    let model = SarimaModel::new(Order::sarima(1, 0, 0, 0, 1, 1, 12)).unwrap();
    let err = model.fit(&seasonal(14)).unwrap_err().to_string();
    assert!(err.contains("too few"), "{err}");
}

#[test]
fn short_gaps_are_filled_and_long_gaps_rejected() {
    let mut y = seasonal(120);
    for v in &mut y[40..44] {
        *v = f64::NAN;
    }
    let f = AutoSarima::new(12)
        .fit(&y)
        .unwrap()
        .model
        .forecast(12, 0.9)
        .unwrap();
    assert!(f
        .mean
        .iter()
        .chain(&f.lower)
        .chain(&f.upper)
        .all(|v| v.is_finite()));

    for v in &mut y[60..70] {
        *v = f64::NAN;
    }
    let err = AutoSarima::new(12).fit(&y).unwrap_err().to_string();
    assert!(err.contains("gap of 10"), "{err}");
    let mut y = seasonal(120);
    y[119] = f64::NAN;
    let err = AutoSarima::new(12).fit(&y).unwrap_err().to_string();
    assert!(err.contains("last value"), "{err}");
}

#[test]
fn update_matches_filtering_the_longer_series() {
    // Filtering 100 values then updating with 20 more must give the forecast of the same
    // coefficients applied to all 120 values (the update is one Kalman step each).
    let y = seasonal(120);
    let model = SarimaModel::new(Order::sarima(1, 0, 1, 0, 1, 1, 12)).unwrap();
    let coefficients = Coefficients {
        ar: vec![0.4],
        ma: vec![0.2],
        sar: vec![],
        sma: vec![-0.5],
    };
    let mut streamed = model.fit_at(&y[..100], coefficients.clone()).unwrap();
    for v in &y[100..] {
        streamed.update(*v).unwrap();
    }
    let batch = model.fit_at(&y, coefficients).unwrap();
    let (a, b) = (
        streamed.forecast(12, 0.8).unwrap(),
        batch.forecast(12, 0.8).unwrap(),
    );
    for h in 0..12 {
        // Same arithmetic in the same order except for sigma^2, which the streamed model keeps
        // from its first 100 values; the mean does not depend on it.
        assert!(
            (a.mean[h] - b.mean[h]).abs() < 1e-9,
            "h={h}: {} vs {}",
            a.mean[h],
            b.mean[h]
        );
    }
    assert!(streamed.update(f64::NAN).is_err());
}
