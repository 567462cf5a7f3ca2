package jsoncmp_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		opts      []jsoncmp.Option
		diff      string
	}{
		{name: "equal ignoring key order and space", want: `{"a": 1, "b": [true, null, "x"]}`, got: `{"b":[true,null,"x"],"a":1}`},
		{name: "int vs float", want: `{"cpu": 1.0}`, got: `{"cpu": 1}`, diff: "cpu: want 1.0 (float), got 1 (int)"},
		{name: "float spellings", want: `[1.0, 1e-05, 0.25]`, got: `[1.00, 0.00001, 2.5e-1]`},
		{name: "big ints", want: `[12345678901234567890]`, got: `[12345678901234567891]`, diff: "[0]: want 12345678901234567890 (int), got 12345678901234567891 (int)"},
		{name: "missing and extra keys", want: `{"a": {"b": 1}}`, got: `{"a": {"c": 1}}`, diff: "a.b: missing, want 1\na.c: unexpected, got 1"},
		{name: "nested path", want: `{"task": {"processes": [{"name": "a"}, {"name": "b"}]}}`, got: `{"task": {"processes": [{"name": "a"}, {"name": "c"}]}}`, diff: `task.processes[1].name: want "b", got "c"`},
		{name: "list order matters by default", want: `{"l": [1, 2]}`, got: `{"l": [2, 1]}`, diff: "l[0]: want 1 (int), got 2 (int)\nl[1]: want 2 (int), got 1 (int)"},
		{name: "multiset ignores order", want: `{"t": {"l": [{"a": 1.0}, 2]}}`, got: `{"t": {"l": [2, {"a": 1.00}]}}`, opts: []jsoncmp.Option{jsoncmp.Multiset("t.l")}},
		{name: "multiset keeps multiplicity", want: `{"l": [1, 1, 2]}`, got: `{"l": [1, 2, 2]}`, opts: []jsoncmp.Option{jsoncmp.Multiset("l")}, diff: "l (multiset): missing 1× 1\nl (multiset): unexpected 1× 2"},
		{name: "multiset keeps kinds", want: `{"l": [1]}`, got: `{"l": [1.0]}`, opts: []jsoncmp.Option{jsoncmp.Multiset("l")}, diff: "l (multiset): missing 1× 1\nl (multiset): unexpected 1× 1.0"},
		{name: "multiset path inside arrays", want: `{"jobs": [{"l": [1, 2]}, {"l": [3]}]}`, got: `{"jobs": [{"l": [2, 1]}, {"l": [4]}]}`, opts: []jsoncmp.Option{jsoncmp.Multiset("jobs.l")}, diff: "jobs[1].l (multiset): missing 1× 3\njobs[1].l (multiset): unexpected 1× 4"},
		{name: "type mismatch", want: `{"a": "1"}`, got: `{"a": 1}`, diff: `a: want "1", got 1`},
		{name: "root", want: `[]`, got: `{}`, diff: "$: want array, got {}"},
		{name: "array lengths", want: `[1]`, got: `[1, 2]`, diff: "[1]: unexpected, got 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := jsoncmp.Diff([]byte(tt.want), []byte(tt.got), tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.diff, d)
		})
	}
}

func TestDiffInvalid(t *testing.T) {
	_, err := jsoncmp.Diff([]byte(`{`), []byte(`{}`))
	assert.ErrorContains(t, err, "want:")
	_, err = jsoncmp.Diff([]byte(`{}`), []byte(`{} x`))
	assert.ErrorContains(t, err, "got:")
}

func TestEqualReports(t *testing.T) {
	ft := &fakeT{}
	assert.False(t, jsoncmp.Equal(ft, []byte(`{"a": 1}`), []byte(`{"a": 2}`)))
	assert.Contains(t, ft.msg, "a: want 1 (int), got 2 (int)")
	assert.True(t, jsoncmp.Equal(t, []byte(`{"a": 1}`), []byte(`{"a": 1}`)))
}

type fakeT struct {
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.msg += fmt.Sprintf(format, args...)
}

func ExampleDiff() {
	d, _ := jsoncmp.Diff(
		[]byte(`{"cpu": 1.0, "processes": [{"name": "a"}, {"name": "b"}]}`),
		[]byte(`{"processes": [{"name": "b"}, {"name": "a"}], "cpu": 1}`),
		jsoncmp.Multiset("processes"),
	)
	fmt.Println(d)
	// Output: cpu: want 1.0 (float), got 1 (int)
}

// TestOracleFiles: the oracle's raw payload (CPython key order, one line)
// and its sorted, indented re-serialisation are equal; changing a float to
// an int or reordering task.processes is caught unless the list is a
// multiset.
func TestOracleFiles(t *testing.T) {
	raw, err := os.ReadFile("testdata/tasks_concat.payload.json")
	require.NoError(t, err)
	pretty, err := os.ReadFile("testdata/tasks_concat.payload.pretty.json")
	require.NoError(t, err)
	d, err := jsoncmp.Diff(raw, pretty)
	require.NoError(t, err)
	assert.Empty(t, d)

	intCPU := bytes.Replace(raw, []byte(`"cpu": 2.0`), []byte(`"cpu": 2`), 1)
	require.NotEqual(t, raw, intCPU)
	d, err = jsoncmp.Diff(raw, intCPU)
	require.NoError(t, err)
	assert.Equal(t, "task.resources.cpu: want 2.0 (float), got 2 (int)", d)

	v, err := jsoncmp.Decode(raw)
	require.NoError(t, err)
	procs := v.(map[string]any)["task"].(map[string]any)["processes"].([]any)
	require.Greater(t, len(procs), 1)
	reordered, err := jsoncmp.Decode(raw)
	require.NoError(t, err)
	rp := reordered.(map[string]any)["task"].(map[string]any)["processes"].([]any)
	rp[0], rp[len(rp)-1] = rp[len(rp)-1], rp[0]
	assert.NotEmpty(t, jsoncmp.DiffValues(v, reordered))
	assert.Empty(t, jsoncmp.DiffValues(v, reordered, jsoncmp.Multiset("task.processes")))
}
