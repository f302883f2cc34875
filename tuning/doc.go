// Package tuning computes the PostgreSQL parameters of Pigsty v4.5's oltp,
// olap, crit and tiny templates from one instance's CPU, memory and disk and a
// few cluster variables (spec/tuning.md). It is pure: no I/O, no model
// import, standard library only. pgcc build, explain and tune share it.
//
// Values are typed (Value: memory, duration, int, real, bool, enum, string,
// list) and formatted to PostgreSQL units only by Value.String; quoting for
// postgresql.conf belongs to render.
//
// Arithmetic follows the templates exactly: float64 with math.Ceil /
// math.Floor on run-time values, then conversion to int (tuning.md §1).
package tuning
