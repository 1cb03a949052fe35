//! The little dense linear algebra the SARIMA code needs: small systems, solved in place.

/// Solves `a x = b` for a row-major `n x n` matrix by Gaussian elimination with partial
/// pivoting (Golub and Van Loan, "Matrix Computations", algorithm 3.4.1). `None` when a pivot
/// is zero or tiny relative to the matrix (singular to working precision).
pub fn solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !(scale > 0.0 && scale.is_finite()) {
        return None;
    }
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() <= 1e-13 * scale {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
            }
            b.swap(pivot, col);
        }
        for row in col + 1..n {
            let factor = a[row * n + col] / a[col * n + col];
            if factor == 0.0 {
                continue;
            }
            for k in col..n {
                a[row * n + k] -= factor * a[col * n + k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    Some(x)
}

/// Ordinary least squares of `y` on the columns `x` (each as long as `y`), by the normal
/// equations. `None` when the columns are collinear.
pub fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = x.len();
    let mut a = vec![0.0; k * k];
    let mut b = vec![0.0; k];
    for i in 0..k {
        b[i] = x[i].iter().zip(y).map(|(u, v)| u * v).sum();
        for j in 0..k {
            a[i * k + j] = x[i].iter().zip(&x[j]).map(|(u, v)| u * v).sum();
        }
    }
    solve(&mut a, &mut b, k)
}
