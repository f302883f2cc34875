package compiler

import "testing"

func TestGrantLints(t *testing.T) {
	res := sqlCompile(t, sqlInv(`        pg_version: 14
        pg_users:
          - { name: app_kill ,pgbouncer: true ,roles: [ pg_signal_backend, pg_monitor ] }
          - { name: ops_group ,login: false ,roles: [ pg_execute_server_program ] }
          - { name: nested_group ,login: false ,roles: [ ops_group ] }
          - { name: app_via ,roles: [ dbrole_readwrite, nested_group ] }
          - { name: app_files ,roles: [ dbrole_readonly, pg_read_server_files, pg_write_server_files, pg_write_all_data ] }
          - { name: etl_ok ,roles: [ pg_signal_backend ] }
          - { name: app_admin ,roles: [ dbrole_admin ] ,pgbouncer: true }
          - { name: app_super ,superuser: true ,pgbouncer: true ,roles: [ pg_signal_backend ] }
          - { name: app_nologin ,login: false ,pgbouncer: true ,roles: [ pg_signal_backend ] }
          - { name: app_revoked ,pgbouncer: true ,roles: [ { name: pg_signal_backend, state: revoke } ] }
          - { name: moneta ,password: x ,backup_tool: pgmoneta }
          - { name: both ,expire_in: 3 ,expire_at: '2030-01-01' }
          - { name: opts ,roles: [ { name: dbrole_readonly ,set: false ,inherit: true ,admin: true } ] }
        pg_databases:
          - { name: scratch ,state: recreate }
`))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	got := sqlDiags(Lint(res.Fleet), "risky-grant", "monitor-to-app", "backup-tool-replication", "backup-tool-superuser",
		"expire-both", "db-recreate", "grant-option-unsupported")
	sqlEqual(t, got, []string{
		`all.children.pg-t.vars.pg_users[0].roles[0]: warning: application user "app_kill" holds pg_signal_backend directly (it can cancel and terminate other sessions); grant it to a DBA or tool role instead`,
		`all.children.pg-t.vars.pg_users[0].roles[1]: warning: pg_monitor is granted directly to application user "app_kill"; observability roles belong to exporters and DBAs`,
		`all.children.pg-t.vars.pg_users[3].roles: warning: application user "app_via" holds pg_execute_server_program through nested_group (it runs OS commands as the server user); grant it to a DBA or tool role instead`,
		`all.children.pg-t.vars.pg_users[4].roles[1]: warning: application user "app_files" holds pg_read_server_files directly (it reads the server file system); grant it to a DBA or tool role instead`,
		`all.children.pg-t.vars.pg_users[4].roles[2]: warning: application user "app_files" holds pg_write_server_files directly (it writes the server file system); grant it to a DBA or tool role instead`,
		`all.children.pg-t.vars.pg_users[4].roles[3]: warning: application user "app_files" holds pg_write_all_data directly (it writes every table); grant it to a DBA or tool role instead`,
		`all.children.pg-t.vars.pg_users[10].backup_tool: warning: backup_tool user "moneta" cannot force checkpoints before PostgreSQL 15 (pg_checkpoint) without SUPERUSER; roles.sql does not grant it`,
		`all.children.pg-t.vars.pg_users[10].backup_tool: warning: backup_tool user "moneta" has no replication: true; pgmoneta streams WAL and needs it`,
		`all.children.pg-t.vars.pg_users[11].expire_at: warning: user "both" sets both expire_in and expire_at; expire_in wins`,
		`all.children.pg-t.vars.pg_users[12].roles[0]: warning: the set and inherit option of granting "dbrole_readonly" to "opts" needs PostgreSQL 16 or later (pg_version is 14); roles.sql skips it`,
		`all.children.pg-t.vars.pg_databases[0].state: warning: database "scratch" has state: recreate; db-scratch.sql drops and re-creates it, with all its data, on every run`,
	})
	// PostgreSQL 16: the options exist, pg_checkpoint exists.
	res16 := sqlCompile(t, sqlInv(`        pg_version: 16
        pg_users:
          - { name: moneta ,password: x ,replication: true ,backup_tool: pgmoneta }
          - { name: opts ,roles: [ { name: dbrole_readonly ,set: false ,inherit: true } ] }
`))
	if got := sqlDiags(Lint(res16.Fleet), "backup-tool-replication", "backup-tool-superuser", "grant-option-unsupported"); len(got) > 0 {
		t.Errorf("unexpected warnings on 16: %v", got)
	}
}

func TestAppLike(t *testing.T) {
	res := sqlCompile(t, sqlInv(`        pg_users:
          - { name: pooled ,pgbouncer: true }
          - { name: reader ,roles: [ dbrole_readonly ] }
          - { name: offline ,roles: [ dbrole_offline ] }
          - { name: writer ,roles: [ { name: dbrole_readwrite } ] }
          - { name: admin_only ,roles: [ dbrole_admin ] }
          - { name: revoked ,roles: [ { name: dbrole_readonly, state: revoke } ] }
          - { name: repl ,replication: true ,pgbouncer: true }
          - { name: dbuser_monitor ,pgbouncer: true }
          - { name: gone ,state: absent ,pgbouncer: true }
`))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := res.Fleet.Cluster("pg-t")
	want := map[string]bool{"pooled": true, "reader": true, "offline": true, "writer": true}
	for _, u := range cl.Users {
		if got := AppLike(cl, u); got != want[u.Name] {
			t.Errorf("AppLike(%s) = %v, want %v", u.Name, got, want[u.Name])
		}
	}
}
