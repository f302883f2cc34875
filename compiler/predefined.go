package compiler

// PredefinedRole is a PostgreSQL predefined role and the major version that
// added it (sql.md §7; PostgreSQL docs "Predefined Roles").
type PredefinedRole struct {
	Name      string
	Since     int // major version (9.6 is written 9)
	Grantable bool
}

// PredefinedRoles lists the predefined roles pgcc knows, oldest first.
var PredefinedRoles = []PredefinedRole{
	{"pg_signal_backend", 9, true},
	{"pg_monitor", 10, true},
	{"pg_read_all_settings", 10, true},
	{"pg_read_all_stats", 10, true},
	{"pg_stat_scan_tables", 10, true},
	{"pg_read_server_files", 11, true},
	{"pg_write_server_files", 11, true},
	{"pg_execute_server_program", 11, true},
	{"pg_read_all_data", 14, true},
	{"pg_write_all_data", 14, true},
	{"pg_database_owner", 14, false},
	{"pg_checkpoint", 15, true},
	{"pg_use_reserved_connections", 16, true},
	{"pg_create_subscription", 16, true},
	{"pg_maintain", 17, true},
	{"pg_signal_autovacuum_worker", 18, true},
}

// Predefined returns the predefined role named name.
func Predefined(name string) (PredefinedRole, bool) {
	for _, r := range PredefinedRoles {
		if r.Name == name {
			return r, true
		}
	}
	return PredefinedRole{}, false
}

// PredefinedIn reports whether a predefined role exists in a major version.
func PredefinedIn(name string, version int) bool {
	r, ok := Predefined(name)
	return ok && version >= r.Since
}
