// Package tokenize holds deid's keys and turns identifiers into keyed
// tokens and consistent surrogates. The engine calls it for every column
// whose action is token or surrogate; it reads no data itself.
//
// # Keys
//
// A Key is 256 random bits, kept in a file of mode 0600 (WriteKeyFile,
// LoadKeyFile) and never on a command line, in output or in logs: it prints
// as "[redacted]" and refuses to marshal. Key.ID is a one-way 64-bit
// fingerprint for manifests. A Tokenizer derives per-domain sub-keys from the
// key with HMAC-SHA-256 over a versioned label and the domain name, so the
// same value gets unrelated tokens in the patient and encounter domains and
// the same token in every table that shares a domain.
//
// # Token forms
//
//   - Domain.AppendToken: 128 bits of HMAC-SHA-256, as 26 characters of
//     lowercase base32. Collisions are negligible (below 2^-64 for 2^32
//     values); without the key a token can neither be reversed nor computed
//     from a guessed value, so enumerating a small input space such as
//     SSNs or MRNs gains nothing.
//   - Domain.Int64 and Domain.Int32: FF1 format-preserving encryption (NIST
//     SP 800-38G) in radix 2, a keyed permutation of the non-negative and of
//     the negative values. An integer key stays an integer of the same width
//     and sign, and distinct keys stay distinct, so primary keys and foreign
//     keys keep their constraints. The key holder alone can invert it
//     (DecryptInt64).
//   - Domain.AppendFake: a fictional value of a given kind (name, street,
//     email, phone, ...) drawn from word lists with Domain.Seed, a keyed
//     64-bit value. Equal inputs give equal surrogates; surrogates are not
//     unique. Emails, URLs, phones and IP addresses fall in ranges reserved
//     for fiction or documentation, so they cannot reach a real person.
//
// All three are deterministic: the same key, domain and value give the same
// output in every process, on every machine, in every run, with no shared
// state, which is what lets tables, sources and shards join.
//
// # Safe Harbor
//
// String and integer tokens replace the numbers of 45 CFR
// 164.514(b)(2)(i)(H)-(M) and (R): medical record, health plan, account,
// license, vehicle and device numbers and any other unique code. Surrogates
// replace names (A), street and city (B), phone (D), fax (E), email (F), URLs
// (N) and IP addresses (O). Both follow §5 of SAFE_HARBOR.md: a code in place
// of an identifier must never be an unkeyed hash, which a recipient reverses
// by enumerating the inputs (HHS guidance 3.5). Every form here is keyed, and
// the key never travels with the data.
//
// These codes are nevertheless derived from the identifiers, which
// 164.514(c)(1) does not allow for a re-identification code. The run
// manifest must therefore state, for every tokenized or surrogate column,
// that its values are derived from identifiers under the key with this ID.
// A release that needs a code unrelated to the individual uses crosswalk
// tokens instead.
package tokenize
