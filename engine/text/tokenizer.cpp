#include "engine/text/tokenizer.h"

#include "engine/text/sentencepiece_plugin/sentencepiece_api.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "base/install_paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <unistd.h>

namespace sumlab {

namespace {

const char* kPluginName = "libsumlab_sentencepiece.so";

// ASan and TSan abort on dlopen(RTLD_DEEPBIND): a deep-bound library would bypass their malloc and
// pthread interceptors. Sanitizer builds (-DSUMLAB_SANITIZE) therefore load the plugin without it,
// which works only while LibTorch's libprotobuf is not in the process: otherwise libsentencepiece's
// own protobuf calls bind to it and crash (a SEGV in Arena::CreateMaybeMessage, seen under ASan).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SUMLAB_NO_DEEPBIND 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SUMLAB_NO_DEEPBIND 1
#endif
#ifdef SUMLAB_NO_DEEPBIND
constexpr int kPluginFlags = RTLD_NOW | RTLD_LOCAL;
const char* kSanitizerRefusal =
    "SentencePiece cannot be loaded in a sanitizer build of a program that links LibTorch (the sanitizers "
    "refuse RTLD_DEEPBIND, and without it Debian's libsentencepiece binds to LibTorch's protobuf and crashes)";
#else
constexpr int kPluginFlags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif

struct Plugin {
    void* handle = nullptr;
    sumlab_sentencepiece_load_fn load = nullptr;
    sumlab_sentencepiece_train_fn train = nullptr;  // null in a plugin built before training was added
    std::string path;
    std::string error;
};

// Loaded once per process and never unloaded: models created by it must outlive every user.
const Plugin& plugin() {
    static Plugin p;
    static std::once_flag once;
    std::call_once(once, [] {
        std::vector<std::string> candidates;
        if (const char* env = std::getenv("SUMLAB_SENTENCEPIECE_PLUGIN")) candidates.emplace_back(env);
        std::string dir = executable_dir();
        candidates.push_back(join_path(dir, kPluginName));
        candidates.push_back(join_path(dir, std::string("../") + SUMLAB_PLUGIN_INSTALL_DIR + "/" + kPluginName));
        std::string errors;
#ifdef SUMLAB_NO_DEEPBIND
        if (void* protobuf = ::dlopen("libprotobuf.so.32", RTLD_LAZY | RTLD_NOLOAD)) {
            ::dlclose(protobuf);
            p.error = kSanitizerRefusal;
            return;
        }
#endif
        for (const auto& c : candidates) {
            if (!is_file(c)) continue;
            void* h = ::dlopen(c.c_str(), kPluginFlags);
            if (!h) {
                errors += std::string(" ") + ::dlerror();
                continue;
            }
            auto fn = reinterpret_cast<sumlab_sentencepiece_load_fn>(::dlsym(h, "sumlab_sentencepiece_load"));
            if (!fn) {
                errors += " " + c + " lacks sumlab_sentencepiece_load";
                ::dlclose(h);
                continue;
            }
            p.handle = h;
            p.load = fn;
            p.train = reinterpret_cast<sumlab_sentencepiece_train_fn>(::dlsym(h, "sumlab_sentencepiece_train"));
            p.path = c;
            return;
        }
        p.error = "SentencePiece plugin " + std::string(kPluginName) + " not found beside the executable (" + dir +
                  ") or in ../" + SUMLAB_PLUGIN_INSTALL_DIR + errors;
    });
    return p;
}

// HF's clean_up_tokenization (transformers 4.28).
std::string clean_up_tokenization(std::string s) {
    static const std::pair<const char*, const char*> kRules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) {
        std::string out;
        out.reserve(s.size());
        size_t flen = std::char_traits<char>::length(from);
        size_t pos = 0;
        while (true) {
            size_t hit = s.find(from, pos);
            if (hit == std::string::npos) break;
            out.append(s, pos, hit - pos);
            out += to;
            pos = hit + flen;
        }
        out.append(s, pos, std::string::npos);
        s.swap(out);
    }
    return s;
}

bool is_py_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Python's str.strip() for the ASCII whitespace HF's added-token handling removes; non-ASCII
// spaces (U+00A0 etc.) are also stripped by Python, so handle the common UTF-8 ones too.
size_t utf8_space_len(const std::string& s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (is_py_space(c) || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f) return 1;
    if (c == 0xc2 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) == 0xa0 || static_cast<unsigned char>(s[i + 1]) == 0x85))
        return 2;
    if (c == 0xe3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 && static_cast<unsigned char>(s[i + 2]) == 0x80)
        return 3;  // U+3000
    if (c == 0xe2 && i + 2 < s.size()) {
        unsigned char b1 = static_cast<unsigned char>(s[i + 1]), b2 = static_cast<unsigned char>(s[i + 2]);
        if (b1 == 0x80 && ((b2 >= 0x80 && b2 <= 0x8a) || b2 == 0xa8 || b2 == 0xa9 || b2 == 0xaf)) return 3;
        if (b1 == 0x81 && b2 == 0x9f) return 3;  // U+205F
    }
    if (c == 0xe1 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x9a && static_cast<unsigned char>(s[i + 2]) == 0x80)
        return 3;  // U+1680
    return 0;
}

std::string lstrip(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        size_t n = utf8_space_len(s, i);
        if (n == 0) break;
        i += n;
    }
    return s.substr(i);
}

std::string rstrip(const std::string& s) {
    size_t end = s.size();
    while (end > 0) {
        // step back to the start of the last code point
        size_t start = end - 1;
        while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80) --start;
        size_t n = utf8_space_len(s, start);
        if (n == 0 || start + n != end) break;
        end = start;
    }
    return s.substr(0, end);
}

}  // namespace

std::string sentencepiece_plugin_path() {
    const Plugin& p = plugin();
    return p.path.empty() ? p.error : p.path;
}

std::string train_sentencepiece(const std::vector<std::string>& sentences,
                                const std::vector<std::pair<std::string, std::string>>& options, unsigned seed,
                                bool verbose, const std::string& what) {
    const Plugin& p = plugin();
    if (!p.load) throw FileError(what, "cannot train a tokenizer: " + p.error);
    if (!p.train) throw FileError(what, "cannot train a tokenizer: the SentencePiece plugin " + p.path + " has no trainer (an old build)");
    std::string model, error;
    if (!p.train(&sentences, &options, seed, verbose, &model, &error))
        throw DataError(what, 0, "SentencePiece training failed: " + error);
    return model;
}

T5Tokenizer T5Tokenizer::from_directory(const std::string& dir) {
    std::string spiece = join_path(dir, "spiece.model");
    if (!is_file(spiece)) throw FileError(spiece, "missing: a T5 model folder needs its SentencePiece model spiece.model");
    int extra_ids = 100;
    std::string cfg = join_path(dir, "tokenizer_config.json");
    if (is_file(cfg)) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(read_file(cfg));
        } catch (const nlohmann::json::exception& e) {
            throw ConfigError(cfg, "", std::string("invalid JSON: ") + e.what());
        }
        if (j.contains("extra_ids")) {
            if (!j["extra_ids"].is_number_integer() || j["extra_ids"].get<int64_t>() < 0 || j["extra_ids"].get<int64_t>() > 100000)
                throw ConfigError(cfg, "extra_ids", "must be a non-negative integer");
            extra_ids = j["extra_ids"].get<int>();
        }
    }
    return T5Tokenizer(spiece, extra_ids);
}

T5Tokenizer::T5Tokenizer(const std::string& spiece_path, int extra_ids) : path_(spiece_path), extra_ids_(extra_ids) {
    const Plugin& p = plugin();
    if (!p.load) throw FileError(spiece_path, "cannot load tokenizer: " + p.error);
    if (!is_file(spiece_path)) throw FileError(spiece_path, "missing SentencePiece model");
    std::string error;
    SentencePieceModel* model = p.load(spiece_path.c_str(), &error);
    if (!model) throw FileError(spiece_path, "not a valid SentencePiece model: " + error);
    sp_.reset(model);
    sp_size_ = sp_->piece_size();
    unk_id_ = sp_->unk_id();
    pad_id_ = sp_->piece_to_id("<pad>");
    eos_id_ = sp_->piece_to_id("</s>");
    special_tokens_ = {"</s>", "<unk>", "<pad>"};
    for (int i = 0; i < extra_ids_; ++i) special_tokens_.push_back("<extra_id_" + std::to_string(i) + ">");
    // Longest first so a scan picks the longest special token at a position, as HF's trie does.
    std::sort(special_tokens_.begin(), special_tokens_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size() || (a.size() == b.size() && a < b); });
}

std::vector<std::string> T5Tokenizer::tokenize(const std::string& text) const {
    // 1. Split out special tokens (HF's added-token trie).
    std::vector<std::string> chunks;
    std::vector<bool> is_special;
    size_t start = 0, i = 0;
    while (i < text.size()) {
        const std::string* hit = nullptr;
        if (text[i] == '<') {
            for (const auto& tok : special_tokens_) {
                if (text.compare(i, tok.size(), tok) == 0) {
                    hit = &tok;
                    break;
                }
            }
        }
        if (hit) {
            if (i > start) {
                chunks.push_back(text.substr(start, i - start));
                is_special.push_back(false);
            }
            chunks.push_back(*hit);
            is_special.push_back(true);
            i += hit->size();
            start = i;
        } else {
            ++i;
        }
    }
    if (start < text.size()) {
        chunks.push_back(text.substr(start));
        is_special.push_back(false);
    }
    // 2. Special tokens given as plain strings eat the whitespace on both sides (HF 4.28).
    for (size_t k = 0; k < chunks.size(); ++k) {
        if (!is_special[k]) continue;
        if (k + 1 < chunks.size() && !is_special[k + 1]) chunks[k + 1] = lstrip(chunks[k + 1]);
        if (k > 0 && !is_special[k - 1]) chunks[k - 1] = rstrip(chunks[k - 1]);
    }
    // 3. SentencePiece on the rest.
    std::vector<std::string> pieces;
    for (size_t k = 0; k < chunks.size(); ++k) {
        if (chunks[k].empty()) continue;
        if (is_special[k]) {
            pieces.push_back(chunks[k]);
        } else {
            auto sp = sp_->encode_as_pieces(chunks[k]);
            pieces.insert(pieces.end(), sp.begin(), sp.end());
        }
    }
    return pieces;
}

int64_t T5Tokenizer::token_to_id(const std::string& token) const {
    if (token.rfind("<extra_id_", 0) == 0 && token.size() > 11 && token.back() == '>') {
        std::string digits = token.substr(10, token.size() - 11);
        if (!digits.empty() && digits.size() < 9 && std::all_of(digits.begin(), digits.end(), ::isdigit))
            return vocab_size() - std::stoll(digits) - 1;
    }
    return sp_->piece_to_id(token);
}

std::string T5Tokenizer::id_to_token(int64_t id) const {
    if (id >= 0 && id < sp_size_) return sp_->id_to_piece(static_cast<int>(id));
    return "<extra_id_" + std::to_string(vocab_size() - 1 - id) + ">";
}

bool T5Tokenizer::is_special_id(int64_t id) const {
    if (id == pad_id_ || id == eos_id_ || id == unk_id_) return true;
    return id >= sp_size_ && id < vocab_size();
}

std::vector<int64_t> T5Tokenizer::encode(const std::string& text, bool add_eos, int64_t max_length) const {
    std::vector<int64_t> ids;
    for (const auto& piece : tokenize(text)) ids.push_back(token_to_id(piece));
    if (max_length > 0) {
        int64_t room = max_length - (add_eos ? 1 : 0);
        if (room < 0) room = 0;
        if (static_cast<int64_t>(ids.size()) > room) ids.resize(static_cast<size_t>(room));
    }
    // T5's _add_eos_if_not_present: text that already ends in </s> gets no second one.
    if (add_eos && (ids.empty() || ids.back() != eos_id_)) ids.push_back(eos_id_);
    return ids;
}

std::string T5Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    // HF: convert_ids_to_tokens (dropping special ids when asked), then T5's convert_tokens_to_string,
    // which decodes runs of ordinary pieces through SentencePiece and inserts special tokens verbatim.
    std::string out;
    std::vector<std::string> run;
    bool prev_is_special = false;
    for (int64_t id : ids) {
        if (skip_special_tokens && is_special_id(id)) continue;
        std::string token = id_to_token(id);
        bool special = is_special_id(id);
        if (special) {
            if (!prev_is_special) out += " ";
            out += sp_->decode_pieces(run) + token;
            prev_is_special = true;
            run.clear();
        } else {
            run.push_back(std::move(token));
            prev_is_special = false;
        }
    }
    out += sp_->decode_pieces(run);
    // Python's str.strip()
    out = rstrip(lstrip(out));
    return clean_up_tokenization(out);
}

}  // namespace sumlab
