//! Lag polynomials: products, differencing, psi weights, and the reparameterisation that keeps
//! AR polynomials stationary and MA polynomials invertible.
//!
//! A polynomial `c(B) = 1 + c_1 B + ... + c_k B^k` is stored as its coefficients
//! `[1, c_1, ..., c_k]` ("lag form").

/// The product of two polynomials in lag form.
pub fn multiply(a: &[f64], b: &[f64]) -> Vec<f64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        if *x == 0.0 {
            continue;
        }
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// `phi(B) = 1 - phi_1 B - ... - phi_p B^p` in lag form, with the lags spaced `step` apart
/// (`step = m` for a seasonal polynomial in `B^m`).
pub fn ar_lag_form(phi: &[f64], step: usize) -> Vec<f64> {
    let mut out = vec![0.0; phi.len() * step + 1];
    out[0] = 1.0;
    for (i, c) in phi.iter().enumerate() {
        out[(i + 1) * step] = -c;
    }
    out
}

/// `theta(B) = 1 + theta_1 B + ... + theta_q B^q` in lag form, lags spaced `step` apart.
pub fn ma_lag_form(theta: &[f64], step: usize) -> Vec<f64> {
    let mut out = vec![0.0; theta.len() * step + 1];
    out[0] = 1.0;
    for (i, c) in theta.iter().enumerate() {
        out[(i + 1) * step] = *c;
    }
    out
}

/// The differencing operator `(1 - B)^d (1 - B^m)^D` in lag form.
pub fn differencing(d: usize, seasonal_d: usize, period: usize) -> Vec<f64> {
    let mut out = vec![1.0];
    for _ in 0..d {
        out = multiply(&out, &[1.0, -1.0]);
    }
    for _ in 0..seasonal_d {
        let mut s = vec![0.0; period + 1];
        s[0] = 1.0;
        s[period] = -1.0;
        out = multiply(&out, &s);
    }
    out
}

/// Applies a lag-form operator `c(B)` to `x`: `out_t = sum_i c_i x_{t+k-i}`, `k = c.len() - 1`,
/// for the `x.len() - k` positions where every lag exists.
pub fn apply(c: &[f64], x: &[f64]) -> Vec<f64> {
    let k = c.len() - 1;
    if x.len() <= k {
        return Vec::new();
    }
    (k..x.len())
        .map(|t| c.iter().enumerate().map(|(i, ci)| ci * x[t - i]).sum())
        .collect()
}

/// The first `count` coefficients of `num(B) / den(B)` (`den[0] = 1`): the psi weights of an
/// ARIMA model when `num` is its MA and `den` its AR-times-differencing polynomial.
pub fn divide(num: &[f64], den: &[f64], count: usize) -> Vec<f64> {
    let mut psi = vec![0.0; count];
    for j in 0..count {
        let mut v = num.get(j).copied().unwrap_or(0.0);
        for i in 1..den.len().min(j + 1) {
            v -= den[i] * psi[j - i];
        }
        psi[j] = v;
    }
    psi
}

/// Maps unconstrained reals to the coefficients of a stationary AR polynomial
/// `1 - phi_1 B - ... - phi_k B^k`.
///
/// Each `u_j` becomes a partial autocorrelation `r_j = u_j / sqrt(1 + u_j^2)` in (-1, 1), and
/// the Durbin–Levinson recursion turns partial autocorrelations into AR coefficients
/// (Barndorff-Nielsen and Schou 1973; Jones 1980, "Maximum likelihood fitting of ARMA models
/// to time series with missing observations"; Monahan 1984). Every stationary polynomial is
/// reached, and only those.
pub fn constrain_stationary(u: &[f64]) -> Vec<f64> {
    let mut phi: Vec<f64> = Vec::with_capacity(u.len());
    for (k, uk) in u.iter().enumerate() {
        let r = uk / (1.0 + uk * uk).sqrt();
        let prev = phi.clone();
        for j in 0..k {
            phi[j] = prev[j] - r * prev[k - 1 - j];
        }
        phi.push(r);
    }
    phi
}

/// The inverse of [`constrain_stationary`]; partial autocorrelations are clipped to
/// `[-0.99, 0.99]`, so a non-stationary input maps to a nearby stationary one (used for
/// starting values only).
pub fn unconstrain_stationary(phi: &[f64]) -> Vec<f64> {
    let k = phi.len();
    let mut cur = phi.to_vec();
    let mut r = vec![0.0; k];
    for m in (0..k).rev() {
        let rm = cur[m].clamp(-0.99, 0.99);
        r[m] = rm;
        let denom = 1.0 - rm * rm;
        let prev: Vec<f64> = (0..m)
            .map(|j| (cur[j] + rm * cur[m - 1 - j]) / denom)
            .collect();
        cur = prev;
    }
    r.iter().map(|r| r / (1.0 - r * r).sqrt()).collect()
}

/// MA coefficients `theta` of an invertible `1 + theta_1 B + ...` from unconstrained reals:
/// `theta(B)` is invertible exactly when `1 - (-theta_1) B - ...` is stationary.
pub fn constrain_invertible(u: &[f64]) -> Vec<f64> {
    constrain_stationary(u).into_iter().map(|c| -c).collect()
}

/// The inverse of [`constrain_invertible`] (clipped as in [`unconstrain_stationary`]).
pub fn unconstrain_invertible(theta: &[f64]) -> Vec<f64> {
    let neg: Vec<f64> = theta.iter().map(|c| -c).collect();
    unconstrain_stationary(&neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_round_trips_and_is_stationary() {
        let u = [0.3, -1.2, 0.7];
        let phi = constrain_stationary(&u);
        let back = unconstrain_stationary(&phi);
        for (a, b) in u.iter().zip(&back) {
            assert!((a - b).abs() < 1e-10, "{back:?}");
        }
        // AR(1): phi = r = u / sqrt(1 + u^2); u = 1 gives 1/sqrt(2).
        assert!((constrain_stationary(&[1.0])[0] - 0.5f64.sqrt()).abs() < 1e-15);
        // AR(2) from PACF (r1, r2): phi1 = r1 (1 - r2), phi2 = r2 (Box, Jenkins and Reinsel,
        // section 3.2.2). r = u / sqrt(1 + u^2): u = 0.5 -> 0.4472136, u = -0.25 -> -0.2425356.
        let phi = constrain_stationary(&[0.5, -0.25]);
        let (r1, r2) = (0.5 / 1.25f64.sqrt(), -0.25 / 1.0625f64.sqrt());
        assert!((phi[0] - r1 * (1.0 - r2)).abs() < 1e-15 && (phi[1] - r2).abs() < 1e-15);
    }

    #[test]
    fn differencing_and_division() {
        // (1 - B)(1 - B^4) = 1 - B - B^4 + B^5.
        assert_eq!(differencing(1, 1, 4), vec![1.0, -1.0, 0.0, 0.0, -1.0, 1.0]);
        // 1 / (1 - 0.5 B) = 1 + 0.5 B + 0.25 B^2 + ...
        assert_eq!(divide(&[1.0], &[1.0, -0.5], 4), vec![1.0, 0.5, 0.25, 0.125]);
        // Applying (1 - B) to [1, 3, 6] gives [2, 3].
        assert_eq!(apply(&[1.0, -1.0], &[1.0, 3.0, 6.0]), vec![2.0, 3.0]);
    }
}
