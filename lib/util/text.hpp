// Limits on text that comes from outside (command-line arguments, JSON inputs, policy files)
// before it reaches the database. Names and keys land in TEXT columns, in indexes and on people's
// terminals: a NUL byte there is cut off by most tools, invalid UTF-8 breaks JSON output, and a
// megabyte name is a mistake or an attack, never a name.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runctl {

// Run and state names, task keys, tags, cache and pause keys, rule names.
constexpr std::size_t kMaxNameBytes = 4096;
// Messages and reasons: long tracebacks are fine, unbounded input is not.
constexpr std::size_t kMaxMessageBytes = 1024 * 1024;
// JSON nesting accepted from input: SQLite's JSON functions stop at 1000 levels too. Deeper
// documents would make recursive code (copying, printing, comparing) exhaust the stack.
constexpr std::size_t kMaxJsonDepth = 1000;

bool is_valid_utf8(std::string_view text);

// What is wrong with `text` as a name or message of at most `max_bytes` ("contains a NUL byte",
// "is not valid UTF-8", "is longer than N bytes"), or nullopt when nothing is.
std::optional<std::string> text_problem(std::string_view text, std::size_t max_bytes);

// "nested deeper than 1000 levels" when the JSON text's arrays and objects nest deeper than
// `max_depth`, else nullopt. Scans the text without parsing it, so it is safe on any input.
std::optional<std::string> json_depth_problem(std::string_view json_text,
                                              std::size_t max_depth = kMaxJsonDepth);

// The candidate closest to `word`, for a "did you mean" hint: compared without case, '-', '_'
// and spaces (so "coreflow" finds "core-flow"), by edit distance, and only when close enough to
// be a plausible slip (at most a third of the word's letters, and at least one, differ). Ties go
// to the earlier candidate. nullopt when nothing is that close.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// " (did you mean X?)" with closest_match's answer, or "" when there is none.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// Text for a terminal: control characters escaped, so stored text cannot split a line or send
// escape sequences. Newline, carriage return and tab become backslash-n, -r and -t; other C0
// characters and DEL become backslash-x and two hex digits (ESC: "\x1b"); C1 characters
// (U+0080 to U+009F) become backslash-u and four hex digits. Everything else, backslashes and
// valid UTF-8 included, is left as it is.
std::string printable(std::string_view text);

// An nlohmann::json exception's message without its "[json.exception.parse_error.101] " tag:
// "parse error at line 1, column 3: ...". Any other message is returned as it is.
std::string without_json_exception_tag(std::string message);

// One line, whatever the message holds, for stderr (people and log scrapers): CR, LF and NUL
// become spaces, other control characters are escaped as printable() does, and a message longer
// than 1,000 bytes is cut at a character boundary with its full size noted.
std::string one_line(std::string text);

// Prefect's truncated_to (prefect.utilities.text): "" for no or empty text; a text longer than
// `limit` characters (code points) becomes its first limit/2 characters, "...<n> additional
// characters...", and its last limit/2 characters, unless that is not shorter.
std::string truncated_to(std::size_t limit, const std::optional<std::string>& text);

// `text` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

}  // namespace runctl
