package nix

// Unexported helpers the external tests check directly.
var (
	StripANSI     = stripANSI
	NormalizeHash = normalizeHash
)
