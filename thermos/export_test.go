package thermos

// The encoder's scalar writers, exported to the tests only.
var (
	AppendFloat  = appendFloat
	AppendString = appendString
)
