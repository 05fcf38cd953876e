package schemas

import _ "embed"

// JSONSchema is the JSON Schema (draft 2020-12) of the policy format, for
// editors and for tools that write policies. It checks the shape of a policy:
// the keys, the kinds, actions, types and formats; Validate checks the rest,
// such as which actions each kind allows under each profile.
//
// The file policy.schema.json is generated from the safeharbor tables by
// `go generate`, and a test fails when it is stale.
//
//go:generate go test -run ^TestGenerated -update .
//go:embed policy.schema.json
var JSONSchema []byte
