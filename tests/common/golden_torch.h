// Tensor helpers for the golden tests (links LibTorch).
#pragma once

// LibTorch before Qt: Qt's `slots` macro breaks LibTorch headers included after it.
#include <torch/torch.h>

#include "tests/common/golden.h"

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

}  // namespace sumlab::test
