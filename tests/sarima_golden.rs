//! SARIMA against statsmodels' SARIMAX (reference values from
//! `tests/fixtures/sarima/generate.py`, which states the statsmodels settings: simple
//! differencing, stationary initialisation, concentrated scale, profiled regression
//! coefficients; forecasts from the exact-diffuse model of the original series).

use serde_json::Value;

use seer::models::sarima::{Coefficients, FourierTerms, Order, SarimaModel, Transform};

/// Log-likelihood at fixed coefficients: the same number computed two ways, so only
/// floating-point noise may differ.
const LLF_FIXED_ABS: f64 = 1e-6;
/// At the maximum, the optimisers stop at slightly different points; the likelihood is flat
/// there, so its value agrees much better than the coefficients do.
const LLF_MLE_ABS: f64 = 1e-3;
const COEF_ABS: f64 = 5e-3;
/// Forecasts at statsmodels' estimates. statsmodels filters the undifferenced series with an
/// exact diffuse start, seer the differenced one: equal in exact arithmetic, observed to agree
/// to about 1e-6 relative (the worst, the airline model on logs, differs by 1.1e-6 after
/// `exp`).
const MEAN_REL: f64 = 1e-5;
/// Interval ends: seer's forecast variance uses the filter's final state covariance exactly as
/// the exact-diffuse filter does, so these agree to rounding too.
const BAND_REL: f64 = 1e-5;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sarima/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn case(name: &str) -> Value {
    reference()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .clone()
}

fn model_for(c: &Value) -> SarimaModel {
    let o: Vec<usize> = c["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let s: Vec<usize> = c["seasonal_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let order = Order::sarima(o[0], o[1], o[2], s[0], s[1], s[2], s[3]);
    let mut model = SarimaModel::new(order).unwrap();
    match c["name"].as_str().unwrap() {
        // Regression on sin/cos of 2 pi k t / 30, k = 1, 2 (in that column order).
        "fourier_reg" => {
            model = model
                .with_fourier(FourierTerms {
                    period: 30.0,
                    harmonics: 2,
                })
                .unwrap()
        }
        // A column of ones (d = 0): the mean.
        "ar2_mean" => model = model.with_constant(true),
        // A column t (d = 1): the drift.
        "arima011_drift" => model = model.with_constant(true),
        _ => {}
    }
    if c["log"].as_bool().unwrap() {
        model = model.with_transform(Transform::Log);
    }
    model
}

/// Splits statsmodels' ARMA parameters (`ar.L1`, `ma.L1`, `ar.S.L12`, `ma.S.L12`, ...) in
/// order of appearance.
fn coefficients(names_values: &[(String, f64)]) -> Coefficients {
    let mut c = Coefficients::default();
    for (name, v) in names_values {
        if name.starts_with("ar.S.") {
            c.sar.push(*v);
        } else if name.starts_with("ma.S.") {
            c.sma.push(*v);
        } else if name.starts_with("ar.") {
            c.ar.push(*v);
        } else if name.starts_with("ma.") {
            c.ma.push(*v);
        }
    }
    c
}

fn fixed_coefficients(c: &Value, order: Order) -> Coefficients {
    let v = floats(&c["fixed"]["arma"]);
    let mut it = v.into_iter();
    let mut take = |k: usize| (0..k).map(|_| it.next().unwrap()).collect::<Vec<_>>();
    Coefficients {
        ar: take(order.p),
        ma: take(order.q),
        sar: take(order.seasonal_p),
        sma: take(order.seasonal_q),
    }
}

fn mle_params(c: &Value) -> Vec<(String, f64)> {
    // serde_json keeps object keys sorted, so recover statsmodels' order from the name.
    let map = c["mle"]["params"].as_object().unwrap();
    let mut out: Vec<(String, f64)> = map
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
        .collect();
    out.sort_by_key(|(k, _)| {
        let rank = if k.starts_with("ar.S") {
            2
        } else if k.starts_with("ma.S") {
            3
        } else if k.starts_with("ar") {
            0
        } else if k.starts_with("ma") {
            1
        } else {
            -1
        };
        (rank, k.clone())
    });
    out
}

fn check_case(name: &str) {
    let c = case(name);
    let y = floats(&c["y"]);
    let model = model_for(&c);
    let order = model.order();

    // 1. Log-likelihood at fixed coefficients.
    let at = model.fit_at(&y, fixed_coefficients(&c, order)).unwrap();
    let want = c["fixed"]["llf"].as_f64().unwrap();
    assert!(
        (at.loglik() - want).abs() < LLF_FIXED_ABS,
        "{name}: fixed loglik {} vs statsmodels {want}",
        at.loglik()
    );
    let scale = c["fixed"]["scale"].as_f64().unwrap();
    assert!(
        (at.sigma2() / scale - 1.0).abs() < 1e-6,
        "{name}: sigma2 {} vs {scale}",
        at.sigma2()
    );

    // 2. Maximum likelihood.
    let fitted = model.fit(&y).unwrap();
    let want = c["mle"]["llf"].as_f64().unwrap();
    assert!(
        (fitted.loglik() - want).abs() < LLF_MLE_ABS,
        "{name}: MLE loglik {} vs statsmodels {want}",
        fitted.loglik()
    );
    let params = mle_params(&c);
    let want_arma = coefficients(&params);
    let got = fitted.coefficients();
    for (g, w) in [
        (&got.ar, &want_arma.ar),
        (&got.ma, &want_arma.ma),
        (&got.sar, &want_arma.sar),
        (&got.sma, &want_arma.sma),
    ] {
        for (a, b) in g.iter().zip(w.iter()) {
            assert!(
                (a - b).abs() < COEF_ABS,
                "{name}: coefficients {got:?} vs {want_arma:?}"
            );
        }
    }
    let want_beta: Vec<f64> = params
        .iter()
        .filter(|(k, _)| !k.starts_with("ar") && !k.starts_with("ma"))
        .map(|(_, v)| *v)
        .collect();
    let got_beta: Vec<f64> = fitted.regression().iter().map(|(_, b)| *b).collect();
    assert_eq!(got_beta.len(), want_beta.len(), "{name}");

    // 3. Forecasts at statsmodels' estimates.
    let at_mle = model.fit_at(&y, want_arma).unwrap();
    for (g, w) in at_mle.regression().iter().zip(&want_beta) {
        assert!(
            (g.1 - w).abs() < 1e-5 * w.abs().max(1.0),
            "{name}: beta {g:?} vs {w}"
        );
    }
    let f = &c["forecast"];
    let horizon = f["horizon"].as_u64().unwrap() as usize;
    let level = f["level"].as_f64().unwrap();
    let fc = at_mle.forecast(horizon, level).unwrap();
    let close = |a: f64, b: f64, rel: f64| (a - b).abs() <= rel * b.abs().max(1.0);
    for (key, got, tol) in [
        ("mean", &fc.mean, MEAN_REL),
        ("lower", &fc.lower, BAND_REL),
        ("upper", &fc.upper, BAND_REL),
    ] {
        let want = floats(&f[key]);
        for (h, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                close(*a, *b, tol),
                "{name}: {key}[{h}] {a} vs statsmodels {b}"
            );
        }
    }
}

#[test]
fn arima111_matches_statsmodels() {
    check_case("arima111");
}

#[test]
fn seasonal_arma_with_seasonal_difference_matches_statsmodels() {
    check_case("sarima101_011_12");
}

#[test]
fn airline_model_on_logs_matches_statsmodels() {
    check_case("airline_log");
}

#[test]
fn fourier_regression_with_sarima_errors_matches_statsmodels() {
    check_case("fourier_reg");
}

#[test]
fn ar2_around_a_mean_matches_statsmodels() {
    check_case("ar2_mean");
}

#[test]
fn arima011_with_drift_matches_statsmodels() {
    check_case("arima011_drift");
}
