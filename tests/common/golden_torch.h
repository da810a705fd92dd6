// Tensor helpers for the golden tests (links LibTorch).
#pragma once

// LibTorch before Qt: Qt's `slots` macro breaks LibTorch headers included after it.
#include <torch/torch.h>

#include "tests/common/golden.h"

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

namespace sumlab::test {

struct Checks {
    double sum = 0, abs_sum = 0, sq_sum = 0, max = 0, min = 0;
};

inline Checks checks_of(const torch::Tensor& t) {
    auto d = t.to(torch::kFloat64);
    return {d.sum().item<double>(), d.abs().sum().item<double>(), d.pow(2).sum().item<double>(), d.max().item<double>(),
            d.min().item<double>()};
}

// The rows where mask == 1 of a (b, l, d) tensor, concatenated: (n_valid, d).
inline torch::Tensor valid_rows(const torch::Tensor& t, const torch::Tensor& mask) {
    return t.reshape({-1, t.size(-1)}).index({mask.reshape({-1}).to(torch::kBool)});
}

inline torch::Tensor long_tensor(const nlohmann::json& rows) {
    std::vector<int64_t> flat;
    int64_t r = static_cast<int64_t>(rows.size()), c = 0;
    for (const auto& row : rows) {
        c = static_cast<int64_t>(row.size());
        for (const auto& v : row) flat.push_back(v.get<int64_t>());
    }
    return torch::tensor(flat, torch::kLong).view({r, c});
}

// Compares checksums with the README's tolerances: sum rel 1e-4, abs_sum / sq_sum rel 1e-5.
inline void compare_checks(const torch::Tensor& got, const nlohmann::json& want, const char* what) {
    auto shape = want["shape"].get<std::vector<int64_t>>();
    QCOMPARE(got.sizes().vec(), shape);
    Checks c = checks_of(got);
    QVERIFY2(rel_diff(c.sum, want["sum"].get<double>()) < 1e-4 * std::max(1.0, std::abs(want["abs_sum"].get<double>()) / std::max(1.0, std::abs(want["sum"].get<double>()))),
             qPrintable(QString("%1 sum %2 vs %3").arg(what).arg(c.sum, 0, 'g', 12).arg(want["sum"].get<double>(), 0, 'g', 12)));
    QVERIFY2(rel_diff(c.abs_sum, want["abs_sum"].get<double>()) < 1e-5,
             qPrintable(QString("%1 abs_sum %2 vs %3").arg(what).arg(c.abs_sum, 0, 'g', 12).arg(want["abs_sum"].get<double>(), 0, 'g', 12)));
    QVERIFY2(rel_diff(c.sq_sum, want["sq_sum"].get<double>()) < 1e-5,
             qPrintable(QString("%1 sq_sum %2 vs %3").arg(what).arg(c.sq_sum, 0, 'g', 12).arg(want["sq_sum"].get<double>(), 0, 'g', 12)));
    QVERIFY2(std::abs(c.max - want["max"].get<double>()) < 1e-4, what);
    QVERIFY2(std::abs(c.min - want["min"].get<double>()) < 1e-4, what);
}

// Relative error without rel_diff's floor of 1: for small quantities such as gradient norms.
inline double rel_err(double got, double want) { return std::abs(got - want) / std::abs(want); }

// The reference's per-tensor summary of a gradient, {norm, sum}; empty when `grad` fits it, else what
// differs. norm: rel 1e-4 (the README's per-parameter tolerance). sum: no stated tolerance; a gradient
// whose error e has |e|_2 <= 1e-4 |g|_2 has |sum e| <= |e|_1 <= sqrt(n) |e|_2 (Cauchy-Schwarz), so the
// sum may be off by 1e-4 sqrt(n) |g|_2 and no more.
inline QString grad_summary_mismatch(const torch::Tensor& grad, const nlohmann::json& want, const std::string& what) {
    if (!grad.defined()) return QString("%1 has no gradient").arg(what.c_str());
    auto g = grad.to(torch::kFloat64);
    const double norm = g.norm().item<double>(), sum = g.sum().item<double>();
    const double want_norm = want.at("norm").get<double>(), want_sum = want.at("sum").get<double>();
    if (rel_err(norm, want_norm) > 1e-4)
        return QString("%1 grad norm %2 vs %3").arg(what.c_str(), repr(norm), repr(want_norm));
    const double sum_tol = 1e-4 * std::sqrt(static_cast<double>(g.numel())) * want_norm;
    if (std::abs(sum - want_sum) > sum_tol)
        return QString("%1 grad sum %2 vs %3 (tolerance %4)").arg(what.c_str(), repr(sum), repr(want_sum), repr(sum_tol));
    return {};
}

// A gradient against the reference's full tensor, with the per-parameter norm tolerance (rel 1e-4)
// applied to the difference: |g - ref|_2 <= 1e-4 |ref|_2 (which implies the norm check, since
// |a|-|b| <= |a-b|) and elementwise max |g - ref| <= 1e-4 max |ref|.
inline QString grad_tensor_mismatch(const torch::Tensor& grad, const torch::Tensor& want, const std::string& what) {
    if (!grad.defined()) return QString("%1 has no gradient").arg(what.c_str());
    if (grad.sizes() != want.sizes()) return QString("%1 grad has the wrong shape").arg(what.c_str());
    auto diff = grad.to(torch::kFloat64) - want.to(torch::kFloat64), ref = want.to(torch::kFloat64);
    const double err = diff.norm().item<double>(), scale = ref.norm().item<double>();
    if (err > 1e-4 * scale) return QString("%1 grad |got - want| = %2, |want| = %3").arg(what.c_str(), repr(err), repr(scale));
    const double max_err = diff.abs().max().item<double>(), max_ref = ref.abs().max().item<double>();
    if (max_err > 1e-4 * max_ref) return QString("%1 grad max |got - want| = %2, max |want| = %3").arg(what.c_str(), repr(max_err), repr(max_ref));
    return {};
}

// How far each element of a weight may be from the reference after one AdamW step from the same
// weights, given the reference's gradient `grad_ref` and gradients that agree elementwise to within
// tau = 1e-4 max |grad_ref| (what grad_tensor_mismatch accepts). The first step moves an element by
// decay p * lr * wd (the same on both sides) and lr * m_hat / (sqrt(v_hat) + eps) = lr * g / (|g| + e),
// with e = eps / c where c is clip_grad_norm's factor (m and v both scale by c). x / (x + e) has slope
// e / (x + e)^2, so a gradient error tau moves the update by at most lr * tau * e / (max(0, |g| - tau) + e)^2,
// and never by more than 2 lr (a sign flip of a gradient near zero, where Adam's 1/sqrt(v) amplifies
// noise). c itself agrees to rel 1e-5 (the total norm's tolerance), which moves the update by at most
// lr * 1e-5 / 4 (the slope of x / (x + e) in e, times e, is at most 1/4); fp32 rounding of the few
// operations adds 4 * 2^-24 (|p| + lr).
inline torch::Tensor adamw_step1_bound(const torch::Tensor& param, const torch::Tensor& grad_ref, double lr, double eps, double clip_factor) {
    auto g = grad_ref.to(torch::kFloat64).abs();
    const double tau = 1e-4 * g.max().item<double>(), e = eps / clip_factor;
    auto slope = tau * e / ((g - tau).clamp_min(0) + e).pow(2);
    return lr * slope.clamp_max(2.0) + lr * 1e-5 / 4 + 4.0 * std::ldexp(1.0, -24) * (param.to(torch::kFloat64).abs() + lr);
}

// torch 1.13's first AdamW step (bias-corrected moments, decoupled decay p *= 1 - lr * wd), in float64,
// from the weights `p0` and the gradient before clipping, scaled by clip_grad_norm_'s factor.
inline torch::Tensor adamw_first_step(const torch::Tensor& p0, const torch::Tensor& grad, double clip_factor, double lr, double beta1,
                                      double beta2, double eps, double weight_decay) {
    auto g = grad.to(torch::kFloat64) * clip_factor;
    auto m = (1 - beta1) * g, v = (1 - beta2) * g * g;
    auto denom = v.sqrt() / std::sqrt(1 - beta2) + eps;
    return p0.to(torch::kFloat64) * (1 - lr * weight_decay) - (lr / (1 - beta1)) * m / denom;
}

// How far fp32 arithmetic may take a first AdamW step from adamw_first_step's float64 value: the decay
// factor 1 - lr * wd is itself a scalar rounded to fp32 (up to 2^-24 relative: 0.99999 becomes
// 0.99998998..., 1.5e-8 on a weight of 0.25), and the decay and the final add round the weight twice
// (2^-24 |p| each): 3 * 2^-24 |p|. The update (|update| <= lr, since |m_hat| / sqrt(v_hat) <= 1) goes
// through about ten roundings (the clip factor, m, v, sqrt, the bias corrections, eps, the division, the
// step size), 2^-24 lr each: 16 * 2^-24 lr with room.
inline torch::Tensor adamw_rounding_bound(const torch::Tensor& p0, double lr) {
    return 3 * std::ldexp(1.0, -24) * p0.to(torch::kFloat64).abs() + 16 * std::ldexp(1.0, -24) * lr;
}

// A parameter after one AdamW step against the reference's {shape, sum, abs_sum, norm, first4}, with
// the README's tolerances after one step: abs_sum and norm rel 1e-5, first4 abs 1e-6. The abs_sum
// tolerance budgets |p - ref|_1 at 1e-5 abs_sum, and |sum p - sum ref| <= |p - ref|_1, so the sum gets
// that same absolute budget: relative to the sum itself (which cancels, e.g. 1.5 out of an abs_sum of
// 126) 1e-5 is tighter than the arithmetic allows, where one element whose gradient is below AdamW's
// eps moves the sum by 4.5e-5 (tiny-flan encoder.block.0.layer.0.SelfAttention.q.weight).
inline QString param_summary_mismatch(const torch::Tensor& param, const nlohmann::json& want, const std::string& what) {
    if (param.sizes().vec() != want.at("shape").get<std::vector<int64_t>>()) return QString("%1 has the wrong shape").arg(what.c_str());
    auto p = param.to(torch::kFloat64);
    const double abs_sum = want.at("abs_sum").get<double>();
    const std::tuple<const char*, double, double> stats[] = {{"sum", p.sum().item<double>(), 1e-5 * abs_sum},
                                                             {"abs_sum", p.abs().sum().item<double>(), 1e-5 * abs_sum},
                                                             {"norm", p.norm().item<double>(), 1e-5 * want.at("norm").get<double>()}};
    for (const auto& [key, got, tolerance] : stats)
        if (std::abs(got - want.at(key).get<double>()) > tolerance)
            return QString("%1 %2 %3 vs %4").arg(what.c_str(), key, repr(got), repr(want.at(key).get<double>()));
    auto flat = p.reshape({-1});
    const auto& first4 = want.at("first4");
    for (size_t i = 0; i < first4.size(); ++i) {
        const double got = flat[static_cast<int64_t>(i)].item<double>();
        if (std::abs(got - first4[i].get<double>()) > 1e-6)
            return QString("%1 element %2: %3 vs %4").arg(what.c_str()).arg(i).arg(repr(got), repr(first4[i].get<double>()));
    }
    return {};
}

}  // namespace sumlab::test
