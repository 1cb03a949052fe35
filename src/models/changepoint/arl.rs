//! Average run length of a one-sided CUSUM, by the Markov chain approximation of Brook and
//! Evans (1972), "An approach to the probability distribution of CUSUM run length",
//! Biometrika 59(3).
//!
//! The statistic `S_t = max(0, S_{t-1} + Z_t - k)` on `[0, h]` is discretised into `m` states:
//! state 0 is `S <= w/2` (including `S = 0`), state `j` is `((j - 1/2) w, (j + 1/2) w]`, with
//! `w = 2h / (2m - 1)`; leaving `[0, h]` upwards is the alarm. With `P` the transition matrix
//! among the non-alarm states, the expected steps to alarm from each state solve
//! `(I - P) L = 1`; the ARL is `L_0`. `Z` is a unit normal shifted by `mu` and clipped to
//! `[-c, c]`, as the online detector clips its standardised residuals.

use crate::models::dist::normal_cdf;

/// The ARL of the one-sided upper CUSUM with drift `k`, threshold `h`, clipping at `c` and a
/// mean shift of `mu` standard deviations, from a chain of `cells` states (200 gives three
/// significant digits). NaN when the system is singular.
pub fn cusum_arl(k: f64, h: f64, c: f64, mu: f64, cells: usize) -> f64 {
    let m = cells.max(2);
    let w = 2.0 * h / (2 * m - 1) as f64;
    // P(Z <= x) for Z = clip(N(mu, 1), -c, c).
    let cdf = |x: f64| {
        if x < -c {
            0.0
        } else if x >= c {
            1.0
        } else {
            normal_cdf(x - mu)
        }
    };

    // Row i of (I - P), augmented with the right-hand side 1.
    let mut a = vec![vec![0.0; m + 1]; m];
    for (i, row) in a.iter_mut().enumerate() {
        let s = i as f64 * w;
        let mut below = cdf(0.5 * w - s + k);
        row[0] -= below;
        for (j, cell) in row.iter_mut().enumerate().take(m).skip(1) {
            let upto = cdf((j as f64 + 0.5) * w - s + k);
            *cell -= upto - below;
            below = upto;
        }
        row[i] += 1.0;
        row[m] = 1.0;
    }
    solve(a).map_or(f64::NAN, |l| l[0])
}

/// Solves the augmented system by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let m = a.len();
    for col in 0..m {
        let pivot = (col..m).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col] == 0.0 {
            return None;
        }
        a.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let p = &top[col];
        for row in rest.iter_mut() {
            let factor = row[col] / p[col];
            if factor != 0.0 {
                for (x, y) in row[col..].iter_mut().zip(&p[col..]) {
                    *x -= factor * y;
                }
            }
        }
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let tail: f64 = (i + 1..m).map(|j| a[i][j] * x[j]).sum();
        x[i] = (a[i][m] - tail) / a[i][i];
    }
    Some(x)
}
