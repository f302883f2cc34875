package tuning

import (
	"strconv"
	"strings"
)

// Kind is the PostgreSQL type of a parameter value as the server reads it
// (pg_settings.vartype, with memory and time integers split out because they
// carry units).
type Kind uint8

// Value kinds.
const (
	KindBool     Kind = iota + 1 // on/off, true/false
	KindInt                      // plain integer (no unit)
	KindReal                     // floating point
	KindEnum                     // one word from a fixed set (wal_level logical)
	KindString                   // free text (paths, commands, names)
	KindMemory                   // integer with a memory unit (8192MB, 8192 bytes)
	KindDuration                 // integer with a time unit (15min, 100 ms)
	KindList                     // comma-separated list (shared_preload_libraries)
)

var kindNames = [...]string{"", "bool", "int", "real", "enum", "string", "memory", "duration", "list"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one typed parameter value. It keeps the number and the unit
// separately so callers can compare values semantically (KB, MS) while
// String reproduces the text Pigsty's templates write (8192MB, 15min, 0640).
//
// The zero Value is invalid; values are built only by this package.
type Value struct {
	kind  Kind
	n     int64    // Bool (0/1), Int, Memory and Duration amounts (in unit)
	f     float64  // Real
	text  string   // Bool word, Enum/String text, Real literal, List verbatim text, Int display
	unit  string   // Memory: "" kB MB GB; Duration: "" ms s min h d
	base  string   // unit of a unitless amount: the parameter's own unit (pg_settings.unit)
	items []string // List items, trimmed, order kept
}

// Kind reports the value's type.
func (v Value) Kind() Kind { return v.kind }

// String returns the value as written into postgresql.conf / patroni.yml,
// without quoting (quoting is render's job: one quoter per syntax).
func (v Value) String() string {
	switch v.kind {
	case KindBool, KindEnum, KindString, KindReal, KindList:
		return v.text
	case KindInt:
		if v.text != "" {
			return v.text
		}
		return strconv.FormatInt(v.n, 10)
	case KindMemory, KindDuration:
		return strconv.FormatInt(v.n, 10) + v.unit
	}
	return ""
}

// Int returns the integer of a KindInt value and the amount (in its written
// unit) of a memory or duration value; 1/0 for a boolean.
func (v Value) Int() int64 { return v.n }

// Float returns the number of a KindReal value (or the integer of an int).
func (v Value) Float() float64 {
	if v.kind == KindReal {
		return v.f
	}
	return float64(v.n)
}

// Bool returns the truth of a KindBool value.
func (v Value) Bool() bool { return v.kind == KindBool && v.n != 0 }

// Items returns a copy of the items of a KindList value.
func (v Value) Items() []string { return append([]string(nil), v.items...) }

// Unit returns the written unit of a memory or duration value ("" when the
// amount is in the parameter's own unit, see BaseUnit).
func (v Value) Unit() string { return v.unit }

// BaseUnit returns the parameter's own unit (pg_settings.unit: B, kB, 8kB,
// MB, ms, s, min) that applies to a unitless amount.
func (v Value) BaseUnit() string { return v.base }

var memUnitBytes = map[string]int64{"B": 1, "kB": 1 << 10, "8kB": 8 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}

var timeUnitMS = map[string]int64{"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}

// Bytes returns a memory value in bytes (ok false for other kinds); -1 stays -1.
func (v Value) Bytes() (int64, bool) { return v.scaled(KindMemory, memUnitBytes) }

// KB returns a memory value in kilobytes, as the reference normalisation
// writes it (ok false for other kinds); -1 stays -1.
func (v Value) KB() (int64, bool) {
	b, ok := v.Bytes()
	if !ok || b == -1 {
		return b, ok
	}
	return b / 1024, true
}

// MB returns a memory value in megabytes (truncated), for budgets and lints.
func (v Value) MB() (int64, bool) {
	b, ok := v.Bytes()
	if !ok || b == -1 {
		return b, ok
	}
	return b >> 20, true
}

// MS returns a duration value in milliseconds (ok false for other kinds);
// -1 stays -1.
func (v Value) MS() (int64, bool) { return v.scaled(KindDuration, timeUnitMS) }

// scaled converts a value of kind k to the smallest unit of units: the written
// unit, or the parameter's own unit for a unitless amount; a unitless -1 (the
// "disabled" of many parameters) stays -1. ok is false for other kinds.
func (v Value) scaled(k Kind, units map[string]int64) (int64, bool) {
	if v.kind != k {
		return 0, false
	}
	if v.n == -1 && v.unit == "" {
		return -1, true
	}
	u := v.unit
	if u == "" {
		u = v.base
	}
	return v.n * units[u], true
}

// Equal reports whether two values are the same typed value written the same way.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.n != w.n || v.text != w.text || v.unit != w.unit || v.base != w.base || len(v.items) != len(w.items) {
		return false
	}
	if v.kind == KindReal && v.f != w.f {
		return false
	}
	for i := range v.items {
		if v.items[i] != w.items[i] {
			return false
		}
	}
	return true
}

// ---- constructors (package-internal: values come only from Compute) ----

// onOff is a boolean written on/off (PostgreSQL's own spelling).
func onOff(b bool) Value {
	if b {
		return Value{kind: KindBool, n: 1, text: "on"}
	}
	return Value{kind: KindBool, text: "off"}
}

// trueFalse is a boolean written true/false (how Pigsty's templates write
// some extension GUCs; PostgreSQL reads both spellings).
func trueFalse(b bool) Value {
	if b {
		return Value{kind: KindBool, n: 1, text: "true"}
	}
	return Value{kind: KindBool, text: "false"}
}

func intv(n int) Value { return Value{kind: KindInt, n: int64(n)} }

// octal is an integer PostgreSQL reads with strtol(…, 0): '0640' is 416.
func octal(text string) Value {
	n, err := strconv.ParseInt(text, 0, 64)
	if err != nil {
		panic("tuning: bad octal literal " + text)
	}
	return Value{kind: KindInt, n: n, text: text}
}

// realv keeps the literal as written in the template (8.0, 0.95, 2000).
func realv(text string) Value {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		panic("tuning: bad real literal " + text)
	}
	return Value{kind: KindReal, f: f, text: text}
}

func enum(s string) Value { return Value{kind: KindEnum, text: s} }
func str(s string) Value  { return Value{kind: KindString, text: s} }

func mb(n int) Value { return Value{kind: KindMemory, n: int64(n), unit: "MB"} }
func gb(n int) Value { return Value{kind: KindMemory, n: int64(n), unit: "GB"} }

// memRaw is a unitless memory amount in the parameter's own unit (base).
func memRaw(n int, base string) Value { return Value{kind: KindMemory, n: int64(n), base: base} }

func dur(n int, unit string) Value { return Value{kind: KindDuration, n: int64(n), unit: unit} }

// durRaw is a unitless time amount in the parameter's own unit (base).
func durRaw(n int, base string) Value { return Value{kind: KindDuration, n: int64(n), base: base} }

// list builds a list value from its verbatim text: items are split on commas
// and trimmed, the text is kept as written (PostgreSQL splits the same way).
func list(text string) Value {
	var items []string
	for _, it := range strings.Split(text, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	return Value{kind: KindList, text: text, items: items}
}

// MarshalJSON writes the value as `pgcc tune --format json` does: booleans as
// JSON booleans, plain numbers (500, 0.95, -1) as numbers, everything else as
// its unit-formatted text. It lets a model that embeds Param marshal sensibly.
func (v Value) MarshalJSON() ([]byte, error) { return jsonValue(v), nil }

// MarshalText writes the kind name (bool, int, memory, …).
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
