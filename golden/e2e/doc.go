// Package e2e holds the end-to-end test of issue 9 (testing.md §5): pgcc builds a
// loopback inventory, the bundle is installed into temporary directories, and a real
// three-member Patroni/etcd cluster with PgBouncer and HAProxy boots from it. The
// package has no non-test code; see README.md for what the test checks and how to run it.
package e2e
