// Prompt templates with Python str.format-style {dialogue} placeholders (see prompt.h).
#include "engine/data/prompt.h"

#include "engine/data/csv.h"
#include "base/errors.h"

namespace sumlab {

namespace {

constexpr std::string_view placeholder_name = "dialogue";

// 1-based position in characters (not bytes) of byte `offset` in UTF-8 `text`.
size_t character_position(std::string_view text, size_t offset) {
    size_t position = 1;
    for (size_t i = 0; i < offset; ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++position;
    }
    return position;
}

std::string preset_names() {
    std::string names;
    for (const auto& preset : prompt_presets()) {
        if (!names.empty()) names += ", ";
        names += preset.name;
    }
    return names;
}

}  // namespace

PromptTemplate::PromptTemplate() : PromptTemplate(std::string(default_prompt_template)) {}

PromptTemplate::PromptTemplate(std::string text, const std::string& source, const std::string& key)
    : text_(std::move(text)) {
    auto fail = [&](const std::string& problem) { throw ConfigError(source, key, problem); };
    if (!is_valid_utf8(text_)) fail("the template is not valid UTF-8");

    std::string literal;
    for (size_t i = 0; i < text_.size(); ++i) {
        const char c = text_[i];
        if (c == '}') {
            if (i + 1 < text_.size() && text_[i + 1] == '}') {
                literal.push_back('}');
                ++i;
                continue;
            }
            fail("single '}' at character " + std::to_string(character_position(text_, i)) + " of the template (write '}}' for a literal brace)");
        }
        if (c != '{') {
            literal.push_back(c);
            continue;
        }
        if (i + 1 < text_.size() && text_[i + 1] == '{') {
            literal.push_back('{');
            ++i;
            continue;
        }
        const size_t close = text_.find('}', i + 1);
        if (close == std::string::npos) {
            fail("unmatched '{' at character " + std::to_string(character_position(text_, i)) + " of the template (write '{{' for a literal brace)");
        }
        const std::string_view field(text_.data() + i + 1, close - i - 1);
        if (field != placeholder_name) {
            fail("unknown field {" + std::string(field) + "} in the template; the only field is {dialogue} "
                 "(write '{{' and '}}' for literal braces)");
        }
        literals_.push_back(std::move(literal));
        literal.clear();
        i = close;
    }
    literals_.push_back(std::move(literal));
    if (literals_.size() < 2) fail("the template has no {dialogue} placeholder");
}

std::string PromptTemplate::render(std::string_view dialogue) const {
    size_t size = dialogue.size() * placeholder_count();
    for (const auto& literal : literals_) size += literal.size();
    std::string out;
    out.reserve(size);
    for (size_t i = 0; i < literals_.size(); ++i) {
        if (i > 0) out.append(dialogue);
        out.append(literals_[i]);
    }
    return out;
}

const std::vector<PromptPreset>& prompt_presets() {
    static const std::vector<PromptPreset> presets = {
        {"dialogsum", default_prompt_template,
         "The course lab's prompt: an instruction, the dialogue, then \"Summary: \" (the default)."},
        {"plain", "{dialogue}", "The dialogue alone, with no instruction."},
    };
    return presets;
}

PromptTemplate resolve_prompt(std::string_view name_or_template) {
    for (const auto& preset : prompt_presets()) {
        if (preset.name == name_or_template) return PromptTemplate(std::string(preset.text));
    }
    if (name_or_template.find('{') == std::string_view::npos) {
        throw ConfigError("prompt template", "",
                          "\"" + std::string(name_or_template) + "\" is neither a preset (" + preset_names() +
                              ") nor a template with a {dialogue} placeholder");
    }
    return PromptTemplate(std::string(name_or_template));
}

}  // namespace sumlab
