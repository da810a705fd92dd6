// DialogSum loading (CSV, JSON Lines, Python dict literals) and selection (see dialogsum.h). The literal parser is
// python_literal.cpp, the length statistics dataset_statistics.cpp.
#include "engine/data/dialogsum.h"

#include "engine/data/csv.h"
#include "engine/data/jsonl.h"
#include "engine/data/python_literal.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <unordered_map>

namespace sumlab {

// ---- Names ----

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

std::string_view file_name_of(std::string_view path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view extension_of(std::string_view path) {
    const std::string_view name = file_name_of(path);
    const size_t dot = name.find_last_of('.');
    return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

bool is_data_extension(std::string_view path) {
    const std::string ext = ascii_lower(extension_of(path));
    return ext == "csv" || ext == "jsonl" || ext == "json" || ext == "txt";
}

}  // namespace

std::string_view split_name(Split split) {
    switch (split) {
        case Split::train: return "train";
        case Split::validation: return "validation";
        case Split::test: return "test";
    }
    return "train";
}

std::optional<Split> parse_split(std::string_view name) {
    const std::string n = ascii_lower(name);
    if (n == "train") return Split::train;
    if (n == "validation" || n == "valid" || n == "val" || n == "dev") return Split::validation;
    if (n == "test") return Split::test;
    return std::nullopt;
}

std::optional<Split> split_from_file_name(std::string_view path) {
    const std::string_view name = file_name_of(path);
    std::optional<Split> found;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find_first_of("._- ", start);
        if (end == std::string_view::npos) end = name.size();
        if (auto split = parse_split(name.substr(start, end - start))) {
            if (found && *found != *split) return std::nullopt;
            found = split;
        }
        start = end + 1;
    }
    return found;
}

std::string_view format_name(DataFormat format) {
    switch (format) {
        case DataFormat::csv: return "csv";
        case DataFormat::jsonl: return "jsonl";
        case DataFormat::python_literal: return "python-literal";
    }
    return "csv";
}

const std::string& DialogSumExample::topic() const {
    static const std::string none;
    return topics.empty() ? none : topics.front();
}

size_t DialogSumSplit::reference_count() const {
    size_t n = 0;
    for (const auto& example : examples) n += example.references.size();
    return n;
}

const DialogSumSplit* DialogSumDataset::find(Split split) const {
    for (const auto& s : splits) {
        if (s.split == split) return &s;
    }
    return nullptr;
}

const DialogSumSplit& DialogSumDataset::at(Split split) const {
    if (const auto* s = find(split)) return *s;
    std::string present;
    for (const auto& s : splits) present += (present.empty() ? "" : ", ") + std::string(split_name(s.split));
    throw DataError(path, 0, "no " + std::string(split_name(split)) + " split here (found: " +
                                 (present.empty() ? std::string("none") : present) + ")");
}

// ---- Loading ----

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

std::int64_t line_of_offset(std::string_view text, size_t offset) {
    return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
}

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\n\v\f\r") == std::string_view::npos; }

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Which fields of a record hold what: "id" or "fname"; "summary" or "summary1".."summaryN"; same for "topic".
struct FieldLayout {
    std::string id;
    std::vector<std::string> references;
    std::vector<std::string> topics;
};

// Resolves the layout from `has(name)`; `missing(problem)` must throw.
template <class Has, class Missing>
FieldLayout resolve_layout(const Has& has, const Missing& missing, std::string_view what) {
    FieldLayout layout;
    if (has("id")) layout.id = "id";
    else if (has("fname")) layout.id = "fname";
    else missing("missing " + std::string(what) + " \"id\" (or \"fname\")");
    if (!has("dialogue")) missing("missing " + std::string(what) + " \"dialogue\"");
    auto numbered = [&](const std::string& base) {
        std::vector<std::string> names;
        if (has(base)) {
            names.push_back(base);
            return names;
        }
        for (int i = 1; has(base + std::to_string(i)); ++i) names.push_back(base + std::to_string(i));
        return names;
    };
    layout.references = numbered("summary");
    if (layout.references.empty()) missing("missing " + std::string(what) + " \"summary\" (or \"summary1\", \"summary2\", ...)");
    layout.topics = numbered("topic");
    return layout;
}

// Adds examples to a split, checking each row's content and applying the bad-row policy.
class SplitBuilder {
public:
    SplitBuilder(DialogSumSplit& split, const LoadOptions& options) : split_(split), options_(options) {}

    void add(DialogSumExample example, const FieldLayout& layout) {
        if (auto reason = problem_of(example, layout)) {
            if (options_.on_bad_row == BadRowPolicy::fail) {
                const std::string which = example.id.empty() ? std::string() : " (id " + in_quotes(example.id) + ")";
                throw DataError(split_.path, example.line, *reason + which);
            }
            split_.skipped.push_back({split_.path, example.line, std::move(example.id), std::move(*reason)});
            return;
        }
        first_line_.emplace(example.id, example.line);
        split_.examples.push_back(std::move(example));
    }

private:
    std::optional<std::string> problem_of(const DialogSumExample& example, const FieldLayout& layout) const {
        if (example.id.empty()) return std::string("empty id");
        if (is_blank(example.dialogue)) return std::string("empty dialogue");
        for (size_t i = 0; i < example.references.size(); ++i) {
            if (is_blank(example.references[i])) return "empty " + layout.references[i];
        }
        auto seen = first_line_.find(example.id);
        if (seen != first_line_.end()) {
            return "duplicate id (first on line " + std::to_string(seen->second) + ")";
        }
        return std::nullopt;
    }

    DialogSumSplit& split_;
    const LoadOptions& options_;
    std::unordered_map<std::string, std::int64_t> first_line_;
};

void parse_csv_split(std::string_view text, DialogSumSplit& split, const LoadOptions& options) {
    CsvTable table = parse_csv(text, split.path);
    // The header's line: parse_csv skips a byte-order mark and blank lines before it.
    std::string_view rest = text.substr(0, utf8_bom.size()) == utf8_bom ? text.substr(utf8_bom.size()) : text;
    const size_t header_start = rest.find_first_not_of("\r\n");
    const std::int64_t header_line = header_start == std::string_view::npos ? 1 : line_of_offset(rest, header_start);

    const FieldLayout layout = resolve_layout(
        [&](const std::string& name) { return table.column(name) >= 0; },
        [&](const std::string& problem) -> void {
            std::string columns;
            for (const auto& name : table.header) columns += (columns.empty() ? "" : ", ") + name;
            throw DataError(split.path, header_line, problem + " (the header has: " + columns + ")");
        },
        "column");
    const int id_column = table.column(layout.id);
    const int dialogue_column = table.column("dialogue");
    std::vector<int> reference_columns, topic_columns;
    for (const auto& name : layout.references) reference_columns.push_back(table.column(name));
    for (const auto& name : layout.topics) topic_columns.push_back(table.column(name));

    SplitBuilder builder(split, options);
    split.examples.reserve(table.rows.size());
    for (size_t r = 0; r < table.rows.size(); ++r) {
        auto& row = table.rows[r];
        DialogSumExample example;
        example.line = table.row_lines[r];
        example.id = std::move(row[static_cast<size_t>(id_column)]);
        example.dialogue = std::move(row[static_cast<size_t>(dialogue_column)]);
        for (int c : reference_columns) example.references.push_back(std::move(row[static_cast<size_t>(c)]));
        for (int c : topic_columns) example.topics.push_back(std::move(row[static_cast<size_t>(c)]));
        builder.add(std::move(example), layout);
    }
}

// Adds one JSON object (from JSON Lines or a Python literal) as an example.
void add_object(nlohmann::json& value, std::int64_t line, SplitBuilder& builder, const std::string& path) {
    if (!value.is_object()) throw DataError(path, line, "expected an object with \"id\", \"dialogue\" and \"summary\"");
    const FieldLayout layout = resolve_layout(
        [&](const std::string& name) { return value.contains(name); },
        [&](const std::string& problem) -> void { throw DataError(path, line, problem); }, "field");
    auto take = [&](const std::string& name) {
        auto& field = value[name];
        if (!field.is_string()) throw DataError(path, line, "field " + in_quotes(name) + " must be a string");
        return std::move(field.get_ref<std::string&>());
    };
    DialogSumExample example;
    example.line = line;
    example.id = take(layout.id);
    example.dialogue = take("dialogue");
    for (const auto& name : layout.references) example.references.push_back(take(name));
    for (const auto& name : layout.topics) example.topics.push_back(take(name));
    builder.add(std::move(example), layout);
}

void parse_jsonl_split(std::string_view text, DialogSumSplit& split, const LoadOptions& options) {
    auto records = parse_jsonl(std::string(text), split.path);
    SplitBuilder builder(split, options);
    split.examples.reserve(records.size());
    for (auto& record : records) add_object(record.value, record.line, builder, split.path);
}

// Calls f(line_number, line) for every non-blank line, without its "\r\n" or "\n".
template <class F>
void for_each_line(std::string_view text, const F& f) {
    std::int64_t line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        ++line_no;
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = end + 1;
        if (!is_blank(line)) f(line_no, line);
    }
}

void parse_python_split(std::string_view text, DialogSumSplit& split, const LoadOptions& options) {
    SplitBuilder builder(split, options);
    for_each_line(text, [&](std::int64_t line_no, std::string_view line) {
        nlohmann::json value = parse_python_literal(line, split.path, line_no);
        add_object(value, line_no, builder, split.path);
    });
}

struct FolderListing {
    std::vector<std::string> files;    // regular files (symbolic links followed), sorted
    std::vector<std::string> folders;  // sorted
};

FolderListing list_folder(const std::string& path) {
    std::error_code ec;
    FolderListing listing;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) listing.files.push_back(it->path().filename().string());
        else if (it->is_directory(type_ec)) listing.folders.push_back(it->path().filename().string());
    }
    if (ec) throw FileError(path, "cannot list the folder: " + ec.message());
    std::sort(listing.files.begin(), listing.files.end());
    std::sort(listing.folders.begin(), listing.folders.end());
    return listing;
}

}  // namespace

DataFormat detect_format(std::string_view path, std::string_view text) {
    if (ascii_lower(extension_of(path)) == "csv") return DataFormat::csv;
    if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
    std::optional<std::string_view> first;
    for (size_t pos = 0; pos < text.size() && !first;) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!is_blank(line)) first = line;
        pos = end + 1;
    }
    if (!first) return DataFormat::jsonl;
    if (nlohmann::json::accept(first->begin(), first->end())) return DataFormat::jsonl;
    // Neither parses: the dict's first key decides whose error the user sees.
    const size_t brace = first->find_first_not_of(" \t");
    const size_t key = first->find_first_not_of(" \t", brace == std::string_view::npos ? 0 : brace + 1);
    if (key != std::string_view::npos && (*first)[brace] == '{' && (*first)[key] == '\'') return DataFormat::python_literal;
    try {
        parse_python_literal(*first, std::string(path), 1);
        return DataFormat::python_literal;
    } catch (const DataError&) {
        return DataFormat::jsonl;
    }
}

DialogSumSplit parse_dialogsum(std::string_view text, DataFormat format, Split split, const std::string& path,
                               const LoadOptions& options) {
    DialogSumSplit result;
    result.split = split;
    result.path = path;
    result.format = format;
    if (format == DataFormat::csv) {
        parse_csv_split(text, result, options);
        return result;
    }
    if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
    size_t bad = 0;
    if (!is_valid_utf8(text, &bad)) {
        throw DataError(path, line_of_offset(text, bad), "invalid UTF-8 (byte " + std::to_string(bad) + " of the file)");
    }
    if (format == DataFormat::jsonl) parse_jsonl_split(text, result, options);
    else parse_python_split(text, result, options);
    return result;
}

DialogSumSplit load_dialogsum_file(const std::string& path, Split split, const LoadOptions& options) {
    const std::string text = read_data_file(path);
    return parse_dialogsum(text, detect_format(path, text), split, path, options);
}

DialogSumDataset load_dialogsum(const std::string& path, const LoadOptions& options) {
    DialogSumDataset dataset;
    dataset.path = path;
    if (is_file(path)) {
        std::optional<Split> split = options.split ? options.split : split_from_file_name(path);
        if (!split && options.lone_file_split) {
            split = options.lone_file_split;
            dataset.notes.push_back(path + ": the file name names no split; reading it as the " + std::string(split_name(*split)) + " split");
        }
        if (!split) {
            throw DataError(path, 0, "cannot tell the split from the file name; name it (train, validation, test)");
        }
        dataset.splits.push_back(load_dialogsum_file(path, *split, options));
        return dataset;
    }
    if (!is_directory(path)) throw FileError(path, "no such file or folder");

    const FolderListing listing = list_folder(path);
    std::map<Split, std::string> files;
    for (const auto& name : listing.files) {
        if (!is_data_extension(name)) continue;
        const auto split = split_from_file_name(name);
        if (!split) continue;
        auto [it, inserted] = files.emplace(*split, name);
        if (!inserted) {
            throw DataError(path, 0, "both " + it->second + " and " + name + " look like the " +
                                         std::string(split_name(*split)) + " split; load one of them by its file name");
        }
    }
    if (files.empty()) {
        // Pointing at the parent of csv/ and jsonl/ is an easy mistake: name the subfolders that would load.
        std::string candidates;
        for (const auto& folder : listing.folders) {
            const FolderListing inner = list_folder(join_path(path, folder));
            const bool has_split = std::any_of(inner.files.begin(), inner.files.end(), [](const std::string& name) {
                return is_data_extension(name) && split_from_file_name(name).has_value();
            });
            if (has_split) candidates += (candidates.empty() ? "" : ", ") + join_path(path, folder);
        }
        throw DataError(path, 0, "no DialogSum files here: expected train.csv, validation.csv, test.csv (Hugging Face) "
                                 "or dialogsum.train.jsonl, dialogsum.dev.jsonl, dialogsum.test.jsonl" +
                                     (candidates.empty() ? std::string() : "; these subfolders have some: " + candidates));
    }
    if (options.split && files.count(*options.split) == 0) {
        std::string found;
        for (const auto& [split, name] : files) found += (found.empty() ? "" : ", ") + name;
        throw DataError(path, 0, "no " + std::string(split_name(*options.split)) + " file here (found: " + found + ")");
    }
    for (const auto& [split, name] : files) {
        if (options.split && split != *options.split) continue;
        dataset.splits.push_back(load_dialogsum_file(join_path(path, name), split, options));
    }
    return dataset;
}

// ---- Selection ----

namespace {

// Uniform in [0, range): rejects the lowest 2^64 mod range raw values so the rest divide evenly.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t range) {
    const std::uint64_t threshold = (0 - range) % range;
    while (true) {
        const std::uint64_t x = rng();
        if (x >= threshold) return x % range;
    }
}

}  // namespace

std::vector<size_t> subsample_indices(size_t population, size_t sample_size, std::uint64_t seed) {
    std::vector<size_t> indices(population);
    std::iota(indices.begin(), indices.end(), size_t{0});
    if (sample_size >= population) return indices;
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < sample_size; ++i) {
        const size_t j = i + static_cast<size_t>(uniform_below(rng, population - i));
        std::swap(indices[i], indices[j]);
    }
    indices.resize(sample_size);
    std::sort(indices.begin(), indices.end());
    return indices;
}

DialogSumSplit select_examples(const DialogSumSplit& split, const Selection& selection) {
    if (selection.every_kth == 0) throw ConfigError("selection", "every_kth", "must be at least 1");
    std::vector<size_t> kept;
    for (size_t i = 0; i < split.examples.size(); i += selection.every_kth) kept.push_back(i);
    if (selection.sample_size) {
        std::vector<size_t> sampled;
        for (size_t k : subsample_indices(kept.size(), *selection.sample_size, selection.seed)) sampled.push_back(kept[k]);
        kept = std::move(sampled);
    }
    if (selection.limit && kept.size() > *selection.limit) kept.resize(*selection.limit);

    DialogSumSplit result;
    result.split = split.split;
    result.path = split.path;
    result.format = split.format;
    result.skipped = split.skipped;
    result.examples.reserve(kept.size());
    for (size_t i : kept) result.examples.push_back(split.examples[i]);
    return result;
}

}  // namespace sumlab
