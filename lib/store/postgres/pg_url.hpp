// Passwords in libpq URIs: masked wherever a URI is shown, and scrubbed from any message that
// might quote part of one.
#pragma once
#include <string>
#include <vector>

namespace runctl::pg {

// postgresql://user:secret@host/db?password=x -> postgresql://user:****@host/db?password=****
// (mask_password in postgres_database.hpp is this).
std::string masked_url(const std::string& url);

// The password texts a URI holds (as written, and percent-decoded).
std::vector<std::string> url_secrets(const std::string& url);

// `message` with every occurrence of a secret of `url` replaced by ****.
std::string scrub(std::string message, const std::string& url);

}  // namespace runctl::pg
