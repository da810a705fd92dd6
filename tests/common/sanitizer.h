// What the suites do differently under -DSUMLAB_SANITIZE (ASan, TSan). Include it after any LibTorch header.
//
// Timing budgets are set for the normal (Release) builds; sanitizer builds (-O1, every memory access
// checked) run SumLab's own code several times slower, so a budget is multiplied by kTimeBudgetScale
// there instead of being dropped: it still catches an accidental quadratic loop.
#pragma once

#include <QtTest>

#include <cstring>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SUMLAB_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SUMLAB_TEST_SANITIZED 1
#endif
#endif

namespace sumlab_test {
#ifdef SUMLAB_TEST_SANITIZED
constexpr int kTimeBudgetScale = 10;
#else
constexpr int kTimeBudgetScale = 1;
#endif
}  // namespace sumlab_test

// engine/text/tokenizer.cpp refuses the SentencePiece plugin in ASan/TSan builds of a program that links
// LibTorch (docs/RELIABILITY.md, "Sanitizers"). A case that needs a T5Tokenizer says so where it
// first needs one: it is reported skipped there and the suite's other cases still run (an uncaught
// refusal would abort the whole executable, which CTest reports as a failure, not a skip).
#define SUMLAB_SENTENCEPIECE_REFUSED_MESSAGE "needs SentencePiece, which sanitizer builds that link LibTorch refuse"
#ifdef SUMLAB_TEST_SANITIZED
#define SUMLAB_REQUIRE_SENTENCEPIECE() QSKIP(SUMLAB_SENTENCEPIECE_REFUSED_MESSAGE)
#else
#define SUMLAB_REQUIRE_SENTENCEPIECE() \
    do {                               \
    } while (0)
#endif

namespace sumlab_test {
// True for the refusal's message: for cases where only some rows reach the tokenizer.
inline bool is_sentencepiece_refusal(const char* what) {
#ifdef SUMLAB_TEST_SANITIZED
    return std::strstr(what, "SentencePiece cannot be loaded in a sanitizer build") != nullptr;
#else
    (void)what;
    return false;
#endif
}
}  // namespace sumlab_test

// For the suites that run sumlab-cli: skips the case when the program's output is the refusal.
#define SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(output)                                                          \
    do {                                                                                                     \
        if (sumlab_test::is_sentencepiece_refusal(qPrintable(output))) QSKIP(SUMLAB_SENTENCEPIECE_REFUSED_MESSAGE); \
    } while (0)
