//! The per-row arithmetic of NAB scoring: the probationary period, the scaled sigmoid, and what
//! a detection at each row would earn or cost.
//!
//! Every row of a file gets a [`RowRole`] that does not depend on the detector or the profile:
//!
//! - the first `min(floor(0.15 * N), 750)` rows are probationary and never scored;
//! - a row inside a window of width `w` whose last row is `right` has `y = -(right - i + 1) / w`
//!   and earns `sigma(y) / sigma(-1)` times `A_TP` (exactly `A_TP` at the window's first row);
//! - a row outside every window before the first window costs `A_FP` in full; after a window it
//!   costs `A_FP * sigma(y)` with `y = (i - prev_right) / (prev_width - 1)`, measured from the
//!   nearest window that ended before it.
//!
//! `sigma(y) = 2 / (1 + exp(5 y)) - 1` runs from about 0.987 at `y = -1` through 0 at `y = 0` to
//! -1 as `y` grows. NAB's own scorer treats every position more than 3 window widths past a window
//! as exactly -1 (`sigma(3)` is -0.9999994); seer does the same, which is what makes raw scores
//! agree with NAB's to 1e-12 rather than 1e-7. The same cap turns a false positive after a
//! one-row window (where `prev_width - 1` is 0 and `y` is infinite) into a full `-A_FP`.

use super::corpus::RowWindow;

/// Fraction of a file's rows that are probationary.
pub const PROBATION_FRACTION: f64 = 0.15;

/// Upper bound on the probationary rows of any file (0.15 of 5000 rows).
pub const MAX_PROBATION_ROWS: usize = 750;

/// Positions further than this past a window cost exactly `-1` (see the module docs).
const FAR_PAST_WINDOW: f64 = 3.0;

/// Number of leading rows of an `n_rows`-row file that are not scored:
/// `min(floor(0.15 * n_rows), 750)`.
pub fn probationary_rows(n_rows: usize) -> usize {
    // The product is taken in f64 as NAB does, so rounding at exact multiples matches.
    let rows = (PROBATION_FRACTION * n_rows as f64).floor() as usize;
    rows.min(MAX_PROBATION_ROWS)
}

/// NAB's scaled sigmoid `2 / (1 + exp(5 y)) - 1`, with every `y > 3` mapped to exactly -1.
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y > FAR_PAST_WINDOW {
        return -1.0;
    }
    2.0 / (1.0 + (5.0 * y).exp()) - 1.0
}

/// What a detection at one row is worth, before the profile's weights are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RowRole {
    /// In the probationary period: a detection here counts for nothing.
    Probation,
    /// Inside window number `window` (within the file); a detection earns `credit * A_TP`, with
    /// `credit` in (0, 1] and 1 at the window's first row.
    InWindow { window: usize, credit: f64 },
    /// Outside every window; a detection adds `penalty * A_FP`, with `penalty` in [-1, 0).
    Outside { penalty: f64 },
}

/// Assigns a [`RowRole`] to each of `n_rows` rows. `windows` must be sorted, disjoint and within
/// the file (as [`super::NabFile`] guarantees).
pub(crate) fn row_roles(n_rows: usize, windows: &[RowWindow]) -> Vec<RowRole> {
    let probation = probationary_rows(n_rows);
    let credit_at_start = scaled_sigmoid(-1.0);
    let mut roles = Vec::with_capacity(n_rows);

    // `next` is the first window that has not ended before row `i`; `previous` the last one
    // that has.
    let mut next = 0;
    let mut previous: Option<&RowWindow> = None;
    for i in 0..n_rows {
        while next < windows.len() && windows[next].last_row < i {
            previous = Some(&windows[next]);
            next += 1;
        }
        if i < probation {
            roles.push(RowRole::Probation);
            continue;
        }

        let inside = windows
            .get(next)
            .filter(|w| w.first_row <= i && i <= w.last_row);
        let role = match (inside, previous) {
            (Some(w), _) => {
                let width = w.width() as f64;
                let y = -((w.last_row - i + 1) as f64) / width;
                RowRole::InWindow {
                    window: next,
                    credit: scaled_sigmoid(y) / credit_at_start,
                }
            }
            (None, None) => RowRole::Outside { penalty: -1.0 },
            (None, Some(w)) => {
                // A one-row window gives 0 here, so y is infinite and the cap applies.
                let denominator = (w.width() - 1) as f64;
                let y = (i - w.last_row) as f64 / denominator;
                RowRole::Outside {
                    penalty: scaled_sigmoid(y),
                }
            }
        };
        roles.push(role);
    }
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probation_is_fifteen_percent_capped_at_750() {
        // floor(0.15 * 100) = 15; floor(0.15 * 4032) = floor(604.8) = 604; 0.15 * 10320 = 1548
        // is capped at 750.
        assert_eq!(probationary_rows(100), 15);
        assert_eq!(probationary_rows(4032), 604);
        assert_eq!(probationary_rows(10_320), 750);
        assert_eq!(probationary_rows(0), 0);
    }

    #[test]
    fn sigmoid_values() {
        // sigma(y) = 2 / (1 + e^(5y)) - 1 = tanh(-5y / 2): sigma(0) = 0, sigma(-1) = tanh(2.5).
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(-1.0) - 0.9866142981514303).abs() < 1e-15);
        assert!((scaled_sigmoid(1.0) + 0.9866142981514303).abs() < 1e-15);
        // Just inside the cap the formula applies: -tanh(7.5) = -0.999999388195546.
        assert!((scaled_sigmoid(3.0) + 0.999999388195546).abs() < 1e-15);
        assert_eq!(scaled_sigmoid(3.000001), -1.0);
        assert_eq!(scaled_sigmoid(f64::INFINITY), -1.0);
    }

    #[test]
    fn roles_of_a_small_file() {
        // 20 rows: probation floor(0.15 * 20) = 3 rows. One window over rows 10..=13 (w = 4).
        let windows = [RowWindow {
            first_row: 10,
            last_row: 13,
        }];
        let roles = row_roles(20, &windows);
        assert_eq!(roles[2], RowRole::Probation);
        assert_eq!(roles[3], RowRole::Outside { penalty: -1.0 });
        assert_eq!(
            roles[10],
            RowRole::InWindow {
                window: 0,
                credit: 1.0
            }
        );
        // Row 13: y = -(13 - 13 + 1) / 4 = -0.25, credit tanh(0.625) / tanh(2.5).
        let RowRole::InWindow { credit, .. } = roles[13] else {
            panic!("row 13 is in the window: {:?}", roles[13]);
        };
        assert!((credit - 0.5545997223493823 / 0.9866142981514303).abs() < 1e-12);
        // Row 16: y = (16 - 13) / (4 - 1) = 1, penalty sigma(1) = -tanh(2.5).
        let RowRole::Outside { penalty } = roles[16] else {
            panic!("row 16 is after the window: {:?}", roles[16]);
        };
        assert!((penalty + 0.9866142981514303).abs() < 1e-12);
    }
}
