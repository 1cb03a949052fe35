//! Unconstrained minimisation by L-BFGS (argmin) with a central-difference gradient, for
//! objectives whose analytic gradient is not worth its code (the SARIMA likelihoods).

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

/// Cost returned where the objective is not finite, so the line search backs off.
const PENALTY: f64 = 1e100;

struct Numeric<F> {
    f: F,
    central: bool,
}

impl<F: Fn(&[f64]) -> f64> Numeric<F> {
    fn eval(&self, x: &[f64]) -> f64 {
        let v = (self.f)(x);
        if v.is_finite() {
            v
        } else {
            PENALTY
        }
    }
}

impl<F: Fn(&[f64]) -> f64> CostFunction for Numeric<F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.eval(x))
    }
}

impl<F: Fn(&[f64]) -> f64> Gradient for Numeric<F> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        let mut probe = x.clone();
        let mut g = vec![0.0; x.len()];
        let here = if self.central { 0.0 } else { self.eval(x) };
        for i in 0..x.len() {
            let h = if self.central { 1e-5 } else { 1e-7 } * x[i].abs().max(1.0);
            probe[i] = x[i] + h;
            let up = self.eval(&probe);
            let down = if self.central {
                probe[i] = x[i] - h;
                self.eval(&probe)
            } else {
                here
            };
            probe[i] = x[i];
            let width = if self.central { 2.0 * h } else { h };
            g[i] = if up >= PENALTY || down >= PENALTY {
                0.0
            } else {
                (up - down) / width
            };
        }
        Ok(g)
    }
}

/// Minimises `f` from `x0`; returns the best point found and its value. With no parameters,
/// or when the solver fails, the starting point (or the best point reached) is returned.
/// `central` chooses central differences (2k evaluations per gradient, accurate to
/// `O(h^2)`) over forward differences (k + 1 evaluations, `O(h)`).
pub fn minimize<F: Fn(&[f64]) -> f64>(
    f: F,
    x0: &[f64],
    max_iters: u64,
    central: bool,
) -> (Vec<f64>, f64) {
    let problem = Numeric { f, central };
    let start = problem.eval(x0);
    if x0.is_empty() {
        return (Vec::new(), start);
    }
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-6)
        .and_then(|s| s.with_tolerance_cost(1e-9));
    let Ok(solver) = solver else {
        return (x0.to_vec(), start);
    };
    let init = x0.to_vec();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(init).max_iters(max_iters))
        .run();
    match result {
        Ok(res) => {
            let state = res.state();
            let cost = state.get_best_cost();
            match state.get_best_param() {
                Some(best) if cost < start => (best.clone(), cost),
                _ => (x0.to_vec(), start),
            }
        }
        Err(_) => (x0.to_vec(), start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        // Rosenbrock's function has its minimum 0 at (1, 1).
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let (x, fx) = minimize(f, &[-1.2, 1.0], 500, true);
        assert!(fx < 1e-8 && (x[0] - 1.0).abs() < 1e-3, "{x:?} {fx}");
    }
}
