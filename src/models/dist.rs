//! Quantiles of the normal and Student t distributions, for prediction and confidence intervals.
//!
//! # Method
//!
//! - The normal CDF is `Φ(x) = erfc(-x / √2) / 2`. `erfc` comes from the all-positive series
//!   `erf(x) = 2/√π · e^(-x²) · Σ_n 2^n x^(2n+1) / (1·3·…·(2n+1))` for `|x| < 3` and from the
//!   continued fraction `erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`
//!   beyond (Abramowitz and Stegun 1964, 7.1.6 and 7.1.14). Neither has cancellation, so both
//!   keep close to full double precision.
//! - The normal quantile solves `Φ(x) = p` by Newton steps on `x` from a rough start.
//! - For an integer number of degrees of freedom `ν`, the t CDF is a finite trigonometric sum in
//!   `θ = atan(t / √ν)` (Abramowitz and Stegun 26.7.3 and 26.7.4); the quantile bisects on `θ`,
//!   where that sum is monotone. Above [`T_SERIES_MAX_DF`] degrees of freedom the quantile is
//!   the Cornish–Fisher expansion around the normal quantile (A&S 26.7.5), whose error there is
//!   below 1e-10.

use std::f64::consts::{FRAC_2_SQRT_PI, PI, SQRT_2};

/// Above this many degrees of freedom the t quantile uses the Cornish–Fisher expansion.
pub const T_SERIES_MAX_DF: u64 = 2000;

/// `erfc(x)` for `x >= 0`.
fn erfc_nonnegative(x: f64) -> f64 {
    if x < 3.0 {
        // erf(x) = 2/√π e^(-x²) Σ 2^n x^(2n+1) / (2n+1)!!, every term positive.
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * x * x / (2.0 * n + 1.0);
            sum += term;
        }
        1.0 - FRAC_2_SQRT_PI * (-x * x).exp() * sum
    } else {
        // The continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), evaluated from a
        // fixed depth upwards; at x >= 3, 60 levels are far past convergence.
        let mut tail = x;
        for k in (1..=60).rev() {
            tail = x + (k as f64 / 2.0) / tail;
        }
        (-x * x).exp() / (PI.sqrt() * tail)
    }
}

/// The standard normal CDF `Φ(x)`.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let z = x / SQRT_2;
    if z >= 0.0 {
        1.0 - 0.5 * erfc_nonnegative(z)
    } else {
        0.5 * erfc_nonnegative(-z)
    }
}

/// The standard normal density.
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// The standard normal quantile `Φ⁻¹(p)`; `±∞` at 0 and 1, NaN outside `[0, 1]`.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    // Work in the lower half, where Φ(x) = p is computed without cancellation.
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }

    // A start within a few percent (a logistic-tail approximation), then Newton steps.
    let t = (-2.0 * p.ln()).sqrt();
    let mut x = -(t
        - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    for _ in 0..50 {
        let step = (normal_cdf(x) - p) / normal_pdf(x);
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

/// `P(|T| <= t)` for Student's t with `df` degrees of freedom, through `θ = atan(t / √df)`.
fn t_central_mass(theta: f64, df: u64) -> f64 {
    let (s, c) = theta.sin_cos();
    let c2 = c * c;
    if df.is_multiple_of(2) {
        // sin θ · (1 + 1/2 cos²θ + (1·3)/(2·4) cos⁴θ + … up to cos^(df-2) θ)
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut k = 2;
        while k < df {
            term *= c2 * (k - 1) as f64 / k as f64;
            sum += term;
            k += 2;
        }
        s * sum
    } else {
        // 2/π · (θ + sin θ · (cos θ + 2/3 cos³θ + (2·4)/(3·5) cos⁵θ + … up to cos^(df-2) θ))
        if df == 1 {
            return 2.0 * theta / PI;
        }
        let mut term = c;
        let mut sum = c;
        let mut k = 3;
        while k < df {
            term *= c2 * (k - 1) as f64 / k as f64;
            sum += term;
            k += 2;
        }
        2.0 / PI * (theta + s * sum)
    }
}

/// The quantile of Student's t distribution with `df >= 1` degrees of freedom at `p`; `±∞` at
/// 0 and 1, NaN outside `[0, 1]` or with `df == 0`.
pub fn t_quantile(p: f64, df: u64) -> f64 {
    if !(0.0..=1.0).contains(&p) || df == 0 {
        return f64::NAN;
    }
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if df > T_SERIES_MAX_DF {
        let z = normal_quantile(p);
        let v = df as f64;
        let z3 = z * z * z;
        let z5 = z3 * z * z;
        let z7 = z5 * z * z;
        return z
            + (z3 + z) / (4.0 * v)
            + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
            + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v);
    }

    // P(T <= t) = (1 + A) / 2, so A(θ) = 2p - 1; A rises from 0 to 1 on θ in [0, π/2).
    let target = 2.0 * p - 1.0;
    let (mut lo, mut hi) = (0.0_f64, PI / 2.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_central_mass(mid, df) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (df as f64).sqrt() * (0.5 * (lo + hi)).tan()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn normal_quantiles_match_scipy() {
        // scipy.stats.norm.ppf (SciPy 1.17.1); relative tolerance 1e-12.
        let cases = [
            (0.975, 1.959963984540054),
            (0.995, 2.5758293035489004),
            (0.9, 1.2815515655446004),
            (1e-6, -4.753424308822899),
            (1e-12, -7.034483825301131),
            (0.3, -0.5244005127080409),
        ];
        for (p, want) in cases {
            let got = normal_quantile(p);
            assert!(rel(got, want) < 1e-12, "p {p}: {got} vs {want}");
        }
        assert_eq!(normal_quantile(0.5), 0.0);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn normal_cdf_matches_scipy() {
        // scipy.stats.norm.cdf; relative tolerance 1e-13.
        let cases = [
            (0.0, 0.5),
            (1.0, 0.8413447460685429),
            (-1.0, 0.15865525393145707),
            (-5.0, 2.866515718791933e-07),
            (-10.0, 7.61985302416047e-24),
            (4.2, 0.9999866542509841),
        ];
        for (x, want) in cases {
            let got = normal_cdf(x);
            assert!(rel(got, want) < 1e-13, "x {x}: {got} vs {want}");
        }
    }

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.ppf (SciPy 1.17.1); relative tolerance 1e-11.
        let cases = [
            (0.975, 1, 12.706204736174694),
            (0.975, 2, 4.302652729749462),
            (0.975, 3, 3.1824463052837078),
            (0.975, 5, 2.5705818356363146),
            (0.975, 10, 2.228138851986274),
            (0.975, 30, 2.0422724563012378),
            (0.9, 7, 1.4149239276505086),
            (0.995, 120, 2.6174211451068654),
            (0.975, 1999, 1.9611514201705613),
            (0.975, 5000, 1.9604385517065073),
            (0.025, 4, -2.7764451051977943),
        ];
        for (p, df, want) in cases {
            let got = t_quantile(p, df);
            assert!(rel(got, want) < 1e-11, "p {p} df {df}: {got} vs {want}");
        }
        assert_eq!(t_quantile(0.5, 3), 0.0);
        assert!(t_quantile(0.9, 0).is_nan());
    }
}
